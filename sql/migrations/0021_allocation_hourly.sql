-- Showback: authoritative Admin API usage and cost split to team / feature / env, per hour and cell.
-- Cell = hour x workspace x api key x model x service tier x context window x token type.
-- basis: 'events' (the team's own events explain it), 'owner' (residual assigned to the api key /
-- workspace owner from the attribution config) or 'unattributed' (team = 'unattributed').
-- A month is recomputed whole: its partition is replaced. provisional = 1 where no cost report
-- exists yet for that day and workspace (priced at list price, not trued up).
CREATE TABLE IF NOT EXISTS allocation_hourly
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
    cost_center             LowCardinality(String),
    basis                   LowCardinality(String),
    quantity                UInt64,
    list_cost_usd           Decimal(38, 12),
    allocated_cost_usd      Decimal(38, 12),
    provisional             UInt8,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY month
ORDER BY (hour, workspace_id, api_key_id, model, token_type, team, feature, env);
