-- Working tables of the allocation (pipelines/allocation), each replaced per month on every run.
-- allocation_hourly_staging: a month is built here, then swapped into allocation_hourly whole
-- (ALTER TABLE ... REPLACE PARTITION), so readers never see a half-written month.
CREATE TABLE IF NOT EXISTS allocation_hourly_staging AS allocation_hourly;

-- Application events of a month summed per cell, token type and (team, feature, env): read once
-- from usage_events FINAL, then used by the allocation and by the reconciliation.
CREATE TABLE IF NOT EXISTS allocation_event_cells
(
    month                   Date,
    hour                    DateTime('UTC'),
    workspace_id            LowCardinality(String),
    api_key_id              LowCardinality(String),
    model                   LowCardinality(String),
    service_tier            LowCardinality(String),
    context_window          LowCardinality(String),
    token_type              LowCardinality(String),
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    env                     LowCardinality(String),
    quantity                UInt64
)
ENGINE = MergeTree
PARTITION BY month
ORDER BY (hour, workspace_id, api_key_id, model, service_tier, context_window, token_type, team, feature, env);

-- Events vs Admin API per day and workspace, in tokens (web search requests are not tokens and are
-- left out). authority: Admin API tokens. explained: tokens the events account for (at most the
-- authority, cell by cell). overcount: event tokens beyond the authority of their cell, including
-- cells the Admin API reports nothing for in an hour it has reported. pending: event tokens in
-- hours after the last hour the Admin API has reported for the month (not yet comparable).
CREATE TABLE IF NOT EXISTS allocation_reconciliation_daily
(
    month                   Date,
    date                    Date,
    workspace_id            LowCardinality(String),
    authority_tokens        UInt64,
    event_tokens            UInt64,
    explained_tokens        UInt64,
    overcount_tokens        UInt64,
    pending_event_tokens    UInt64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY month
ORDER BY (date, workspace_id);
