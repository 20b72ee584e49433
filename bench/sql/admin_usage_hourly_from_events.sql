-- Benchmark data: what the Admin API would report for the hours in [start, until), derived from the
-- generated events so the allocation has realistic work: per cell (hour x workspace x api key x model x
-- tier x context window) 75 % of cells match the events exactly, 20 % report 25 % more (traffic no event
-- explains: a residual for the owners) and 5 % report 5 % less (events over-count: scaled down), plus
-- console use (api key '') in every hour of every workspace, which no event explains.
INSERT INTO admin_usage_hourly
    (bucket_start, workspace_id, api_key_id, model, service_tier, context_window, uncached_input_tokens,
     cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, web_search_requests,
     extracted_at)
SELECT hour, workspace_id, api_key_id, model, service_tier, context_window,
       toUInt64(input * factor), toUInt64(cache_read * factor), toUInt64(cache_write_5m * factor),
       toUInt64(cache_write_1h * factor), toUInt64(output * factor), toUInt64(web_search * factor),
       {extracted_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toStartOfHour(ts)                                           AS hour,
        workspace_id, api_key_id, model, service_tier,
        ledger_context_window(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                              cache_write_1h_tokens)                AS context_window,
        sum(input_tokens) AS input, sum(cache_read_input_tokens) AS cache_read,
        sum(cache_write_5m_tokens) AS cache_write_5m, sum(cache_write_1h_tokens) AS cache_write_1h,
        sum(output_tokens) AS output, sum(web_search_requests) AS web_search,
        cityHash64(hour, workspace_id, api_key_id, model, service_tier, context_window) % 20 AS draw,
        multiIf(draw = 0, 0.95, draw <= 4, 1.25, 1.0)               AS factor
    FROM usage_events
    WHERE ts >= {start:DateTime('UTC')} AND ts < {until:DateTime('UTC')}
    GROUP BY hour, workspace_id, api_key_id, model, service_tier, context_window
)
UNION ALL
SELECT {start:DateTime('UTC')} + toIntervalHour(intDiv(number, 4)), concat('wrkspc_', toString(number % 4)), '',
       'claude-sonnet-4-5-20250929', 'standard', '0-200k', 20000 + number % 7 * 1000, 0, 0, 0, 3000, 0,
       {extracted_at:DateTime64(3, 'UTC')}
FROM numbers(toUInt64(dateDiff('hour', {start:DateTime('UTC')}, {until:DateTime('UTC')}) * 4))
