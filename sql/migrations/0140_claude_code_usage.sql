-- Claude Code usage (usage_report/claude_code, docs/claude_code.md), one UTC day per fetch.
-- actor_id: a person's pseudonym (person_ + HMAC-SHA256 of the email, keyed by LEDGER_PSEUDONYM_KEY) for
-- actor_type 'user_actor', the API key's name for 'api_actor'; never an email. team: from LEDGER_CONFIG
-- people / claude_code.api_keys when the day was fetched ('unattributed' when nothing matched).
-- estimated_cost_usd = the report's estimated_cost.amount (cents) / 100, exact. customer_type 'api' is also
-- on the cost report (under the Claude Code workspace); 'subscription' (Pro/Team seats) is not.
-- A null terminal_type / subscription_type is ''. A re-fetched day replaces its rows.
CREATE TABLE IF NOT EXISTS claude_code_usage_daily
(
    date                        Date,
    actor_type                  LowCardinality(String),
    actor_id                    String,
    team                        LowCardinality(String),
    customer_type               LowCardinality(String),
    subscription_type           LowCardinality(String),
    terminal_type               LowCardinality(String),
    model                       LowCardinality(String),
    input_tokens                UInt64,
    output_tokens               UInt64,
    cache_read_tokens           UInt64,
    cache_creation_tokens       UInt64,
    estimated_cost_usd          Decimal(38, 12),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, actor_type, actor_id, team, customer_type, subscription_type, terminal_type, model);

-- The productivity metrics of the same records, per day and actor (not per model).
CREATE TABLE IF NOT EXISTS claude_code_activity_daily
(
    date                        Date,
    actor_type                  LowCardinality(String),
    actor_id                    String,
    team                        LowCardinality(String),
    customer_type               LowCardinality(String),
    terminal_type               LowCardinality(String),
    sessions                    UInt64,
    lines_added                 UInt64,
    lines_removed               UInt64,
    commits                     UInt64,
    pull_requests               UInt64,
    edit_accepted               UInt64,
    edit_rejected               UInt64,
    multi_edit_accepted         UInt64,
    multi_edit_rejected         UInt64,
    write_accepted              UInt64,
    write_rejected              UInt64,
    notebook_edit_accepted      UInt64,
    notebook_edit_rejected      UInt64,
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, actor_type, actor_id, team, customer_type, terminal_type);
