-- Usage against the configured rate limits (migration 0143) of every hour from {from} on, from usage_events:
-- per minute, the requests, input tokens and output tokens of each API key and of each workspace (all its keys)
-- per rate-limit model group; then the busiest minute of each hour per limiter type, against the workspace's
-- effective limit (rate_limits_effective). Input tokens per minute count uncached input and cache writes, not
-- cache reads (https://platform.claude.com/docs/en/api/rate-limits); calls answered 429 used no capacity and are
-- left out. A model in no model group, or a workspace without a fetched limit, has no row.
INSERT INTO configured_limit_usage_hourly
    (hour, subject, workspace_id, api_key_id, group_id, group_name, limit_type, limit_value, inherited,
     peak_per_minute, peak_minute, share, computed_at)
WITH
    per_key AS
    (
        SELECT
            toStartOfMinute(e.ts) AS minute, e.workspace_id AS workspace_id, e.api_key_id AS api_key_id,
            g.group_id AS group_id, g.group_name AS group_name,
            count() AS requests,
            sum(e.input_tokens + e.cache_write_5m_tokens + e.cache_write_1h_tokens) AS input_tokens,
            sum(e.output_tokens) AS output_tokens
        FROM usage_events AS e FINAL
        INNER JOIN rate_limit_model_groups AS g ON g.model_family = ledger_model_family(e.model)
        WHERE e.ts >= {from:DateTime64(3, 'UTC')}
          AND NOT (ifNull(e.status, 0) = 429 OR e.error_type = 'rate_limit_error')
        GROUP BY minute, workspace_id, api_key_id, group_id, group_name
    ),
    per_subject AS
    (
        SELECT 'api_key' AS subject, minute, workspace_id, api_key_id, group_id, group_name, requests,
               input_tokens, output_tokens
        FROM per_key
        UNION ALL
        SELECT 'workspace' AS subject, minute, workspace_id, '' AS api_key_id, group_id, group_name,
               sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
        FROM per_key
        GROUP BY minute, workspace_id, group_id, group_name
    ),
    peaks AS
    (
        SELECT
            toStartOfHour(minute) AS hour, subject, workspace_id, api_key_id, group_id, group_name,
            cell.1 AS limit_type,
            max(cell.2) AS peak,
            argMin(minute, (-toInt64(cell.2), minute)) AS peak_minute  -- the first minute at the peak
        FROM per_subject
        ARRAY JOIN [('requests_per_minute', toUInt64(requests)), ('input_tokens_per_minute', toUInt64(input_tokens)),
                    ('output_tokens_per_minute', toUInt64(output_tokens))] AS cell
        GROUP BY hour, subject, workspace_id, api_key_id, group_id, group_name, limit_type
    )
SELECT
    p.hour, p.subject, p.workspace_id, p.api_key_id, p.group_id, p.group_name, p.limit_type, l.value, l.inherited,
    p.peak, p.peak_minute, p.peak / l.value, {computed_at:DateTime64(3, 'UTC')}
FROM peaks AS p
INNER JOIN rate_limits_effective AS l
    ON l.workspace_id = p.workspace_id AND l.group_id = p.group_id AND l.limit_type = p.limit_type
WHERE l.value > 0
