-- Benchmark check of one allocated month: its rows and event cells, tokens allocated against the Admin API's
-- tokens of the month (they must be equal), tokens given to owners / 'unattributed', the allocated cost.
SELECT
    (SELECT count() FROM allocation_hourly WHERE month = {month:Date})                       AS rows,
    (SELECT count() FROM allocation_event_cells WHERE month = {month:Date})                  AS event_cells,
    (SELECT sum(quantity) FROM allocation_hourly WHERE month = {month:Date})                 AS tokens,
    (SELECT sum(uncached_input_tokens + cache_read_input_tokens + cache_write_5m_tokens + cache_write_1h_tokens
                + output_tokens + web_search_requests)
     FROM admin_usage_hourly FINAL
     WHERE toStartOfMonth(bucket_start) = {month:Date})                                      AS authority,
    (SELECT sumIf(quantity, basis != 'events') FROM allocation_hourly WHERE month = {month:Date}) AS residual_tokens,
    (SELECT sum(allocated_cost_usd) FROM allocation_hourly WHERE month = {month:Date})       AS allocated_usd
