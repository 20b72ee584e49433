-- Events vs Admin API per day and workspace for one month, in tokens (web search requests left out), built in
-- allocation_reconciliation_daily_staging and swapped into allocation_reconciliation_daily whole. Every day and
-- workspace of the month's showback has a row, also one with no token (code execution, session hours only).
-- Cell by cell (the whole cell: ledger_cell, migration 0170; cell.1 is its hour, cell.2 its workspace):
-- explained = least(events, authority); overcount = events beyond the authority. Event cells in hours after
-- the last hour the Admin API has reported for the month are pending, not over-count: the authority for them
-- has not arrived yet.
INSERT INTO allocation_reconciliation_daily_staging
    (month, date, workspace_id, authority_tokens, event_tokens, explained_tokens, overcount_tokens,
     pending_event_tokens, computed_at)
WITH
    (
        SELECT max(bucket_start) FROM admin_usage_hourly FINAL
        WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')}
    ) AS horizon
SELECT
    {month:Date},
    toDate(hour)                                                                AS date,
    workspace_id,
    sum(authority)                                                              AS authority_tokens,
    sumIf(events, hour <= horizon)                                              AS event_tokens,
    sum(least(authority, events))                                               AS explained_tokens,
    sumIf(events - least(authority, events), hour <= horizon)                   AS overcount_tokens,
    sumIf(events, hour > horizon)                                               AS pending_event_tokens,
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT cell.1 AS hour, cell.2 AS workspace_id, authority, events
    FROM
    (
        SELECT ledger_cell(bucket_start, workspace_id, api_key_id, model, service_tier, context_window,
                           inference_geo, speed) AS cell,
               token.1 AS token_type, token.2 AS authority
        FROM admin_usage_hourly FINAL
        ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                           cache_write_1h_tokens, output_tokens, web_search_requests) AS token
        WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')} AND authority > 0
          AND token_type != 'web_search'
    ) AS a
    FULL OUTER JOIN
    (
        SELECT ledger_cell(hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed)
                   AS cell,
               token_type, sum(quantity) AS events
        FROM allocation_event_cells
        WHERE month = {month:Date} AND token_type != 'web_search'
        GROUP BY cell, token_type
    ) AS e
    USING (cell, token_type)
    UNION ALL
    SELECT DISTINCT toStartOfDay(hour), workspace_id, 0, 0
    FROM allocation_hourly
    WHERE month = {month:Date}
)
GROUP BY date, workspace_id
SETTINGS join_use_nulls = 0
