-- Application events of [start, end) summed per allocation cell, token type and (team, feature, env).
-- Exact: FINAL collapses replayed events (dedup by event_id). The context window of each request is
-- classed like the Admin API's (ledger_context_window, migration 0070).
INSERT INTO allocation_event_cells
    (month, hour, workspace_id, api_key_id, model, service_tier, context_window, token_type, team, feature, env,
     quantity)
SELECT {month:Date}, hour, workspace_id, api_key_id, model, service_tier, context_window, cell.1 AS token_type, team,
       feature, env, cell.2 AS quantity
FROM
(
    SELECT
        toStartOfHour(ts)                                           AS hour,
        workspace_id, api_key_id, model, service_tier,
        ledger_context_window(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                              cache_write_1h_tokens)                AS context_window,
        team, feature, env,
        sum(input_tokens)                                           AS input,
        sum(cache_read_input_tokens)                                AS cache_read,
        sum(cache_write_5m_tokens)                                  AS cache_write_5m,
        sum(cache_write_1h_tokens)                                  AS cache_write_1h,
        sum(output_tokens)                                          AS output,
        sum(web_search_requests)                                    AS web_search
    FROM usage_events FINAL
    WHERE ts >= {start:DateTime('UTC')} AND ts < {end:DateTime('UTC')}
    GROUP BY hour, workspace_id, api_key_id, model, service_tier, context_window, team, feature, env
)
ARRAY JOIN ledger_token_quantities(input, cache_read, cache_write_5m, cache_write_1h, output, web_search) AS cell
WHERE quantity > 0
