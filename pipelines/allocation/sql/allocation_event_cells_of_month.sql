-- Application events of [start, end) summed per allocation cell, token type and (team, feature, env).
-- Exact: FINAL collapses replayed events (dedup by event_id). The context window of each request is
-- classed like the Admin API's (ledger_context_window), its prompt band for pricing (ledger_prompt_band).
-- An event that does not say its inference geo (an older emitter: '') takes the geo of the Admin API's
-- cell it belongs to (the geo with the most tokens there), so it still explains that usage: the one join of
-- events on less than the whole cell (ledger_cell, migration 0170), because it is how such an event's cell is found.
INSERT INTO allocation_event_cells
    (month, hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed, prompt_band,
     token_type, team, feature, env, quantity)
SELECT {month:Date}, e.hour, e.workspace_id, e.api_key_id, e.model, e.service_tier, e.context_window,
       if(e.inference_geo = '', ifNull(g.inference_geo, ''), e.inference_geo), e.speed, e.prompt_band,
       cell.1 AS token_type, e.team, e.feature, e.env, cell.2 AS quantity
FROM
(
    SELECT
        toStartOfHour(ts)                                           AS hour,
        workspace_id, api_key_id, model, service_tier, inference_geo, speed,
        ledger_context_window(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                              cache_write_1h_tokens)                AS context_window,
        ledger_prompt_band(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                           cache_write_1h_tokens)                   AS prompt_band,
        team, feature, env,
        sum(input_tokens)                                           AS input,
        sum(cache_read_input_tokens)                                AS cache_read,
        sum(cache_write_5m_tokens)                                  AS cache_write_5m,
        sum(cache_write_1h_tokens)                                  AS cache_write_1h,
        sum(output_tokens)                                          AS output,
        sum(web_search_requests)                                    AS web_search
    FROM usage_events FINAL
    WHERE ts >= {start:DateTime('UTC')} AND ts < {end:DateTime('UTC')}
    GROUP BY hour, workspace_id, api_key_id, model, service_tier, inference_geo, speed, context_window, prompt_band,
             team, feature, env
) AS e
LEFT JOIN
(
    SELECT bucket_start AS hour, workspace_id, api_key_id, model, service_tier, context_window, speed,
           argMax(inference_geo, uncached_input_tokens + cache_read_input_tokens + cache_write_5m_tokens
                                 + cache_write_1h_tokens + output_tokens) AS inference_geo
    FROM admin_usage_hourly FINAL
    WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')}
    GROUP BY hour, workspace_id, api_key_id, model, service_tier, context_window, speed
) AS g
    USING (hour, workspace_id, api_key_id, model, service_tier, context_window, speed)
ARRAY JOIN ledger_token_quantities(e.input, e.cache_read, e.cache_write_5m, e.cache_write_1h, e.output,
                                   e.web_search) AS cell
WHERE quantity > 0
SETTINGS join_use_nulls = 1
