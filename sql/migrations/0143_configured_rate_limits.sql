-- Configured rate limits from the Rate Limits API (docs/monitoring.md#configured-rate-limits), a dimension
-- replaced whole by each fetch (the admin_rate_limits asset deletes the rows of earlier fetches).
-- scope: 'organization' (GET /v1/organizations/rate_limits) or a workspace id (GET …/workspaces/{id}/
-- rate_limits?include_inherited=true). One row per scope, rate-limit group and limiter type
-- (requests_per_minute, input_tokens_per_minute, output_tokens_per_minute, …). models: the model ids and
-- aliases of a model_group entry ([] for other groups). org_limit: the organisation's value of the same
-- limiter type (NULL where it has none); inherited: a workspace value that is the organisation's (no override).
CREATE TABLE IF NOT EXISTS admin_rate_limits
(
    scope                   String,
    group_id                String,
    group_type              LowCardinality(String),
    group_name              String,
    models                  Array(String),
    limit_type              LowCardinality(String),
    value                   UInt64,
    org_limit               Nullable(UInt64),
    inherited               Bool,
    fetched_at              DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(fetched_at)
ORDER BY (scope, group_id, limit_type);

-- The one home of "which rate-limit model group is this model in": the organisation's model_group entries list
-- every model id and alias they cover; a usage row's model belongs to the group that lists its model family
-- (ledger_model_family, migration 0070: the id minus a trailing -YYYYMMDD).
CREATE VIEW IF NOT EXISTS rate_limit_model_groups AS
SELECT DISTINCT ledger_model_family(model) AS model_family, group_id, group_name
FROM admin_rate_limits FINAL
ARRAY JOIN models AS model
WHERE scope = 'organization' AND group_type = 'model_group';

-- The limit each workspace runs under, per model group and limiter type: its own rows (an override or, fetched
-- with include_inherited, the organisation's value it inherits), and for the default workspace ('' in usage
-- rows, which has no workspace id in the API) the organisation's limits.
CREATE VIEW IF NOT EXISTS rate_limits_effective AS
SELECT scope AS workspace_id, group_id, limit_type, value, inherited
FROM admin_rate_limits FINAL
WHERE scope != 'organization' AND group_type = 'model_group'
UNION ALL
SELECT '' AS workspace_id, group_id, limit_type, value, true AS inherited
FROM admin_rate_limits FINAL
WHERE scope = 'organization' AND group_type = 'model_group';

-- Usage against the configured limits per hour: the busiest minute of the hour of each workspace (all its keys)
-- and each API key, per model group and limiter type, from usage events (rate_limit_health refreshes it).
-- subject 'workspace' rows have api_key_id ''. peak_per_minute: requests, input tokens (uncached + cache
-- writes: cache reads do not count towards input tokens per minute) or output tokens of that minute, 429s
-- excluded; share = peak_per_minute / limit_value, the workspace's effective limit.
CREATE TABLE IF NOT EXISTS configured_limit_usage_hourly
(
    hour                    DateTime('UTC'),
    subject                 LowCardinality(String),
    workspace_id            LowCardinality(String),
    api_key_id              LowCardinality(String),
    group_id                LowCardinality(String),
    group_name              String,
    limit_type              LowCardinality(String),
    limit_value             UInt64,
    inherited               Bool,
    peak_per_minute         UInt64,
    peak_minute             DateTime('UTC'),
    share                   Float64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, subject, workspace_id, api_key_id, group_id, limit_type);
