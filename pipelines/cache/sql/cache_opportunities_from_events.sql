-- Prompt prefixes sent without caching in [{start}, {end}] that a prompt cache would make cheaper.
-- A use: an event of the prefix (team, feature, model, prompt_prefix_hash) with no cache read or
-- write whose uncached input holds the prefix, and whose prefix is at least the model's minimum
-- cacheable length (cache_minimums; a model without a minimum is left out).
-- Window model, per TTL T (300 s or 3600 s): uses in time order; a use is a cache read when the
-- previous use of the prefix was at most T earlier (every use refreshes the cache lifetime), else it
-- is a cache write that opens a new window. The first use in the range is a write.
-- Costs of the prefix tokens at the effective list price of the use's day (tier multiplier applied):
-- uncached (input price), with a 5m cache (reads + 5m writes), with a 1h cache (reads + 1h writes).
-- saving = uncached - the cheaper cache; only prefixes with a positive saving and a price for every
-- use are kept. monthly_saving_usd = saving_usd * 30 / lookback_days. Written into {target}, the rebuild's table of
-- cache_opportunities.
INSERT INTO {target:Identifier}
    (computed_at, window_start, window_end, lookback_days, team, feature, model, prompt_prefix_hash,
     prefix_tokens, min_prefix_tokens, uses, first_use, last_use, windows_5m, windows_1h,
     uncached_cost_usd, cost_5m_usd, cost_1h_usd, recommended_ttl, saving_usd, monthly_saving_usd)
SELECT
    {computed_at:DateTime64(3, 'UTC')},
    {start:DateTime64(3, 'UTC')},
    {end:DateTime64(3, 'UTC')},
    {lookback_days:UInt32},
    u.team, u.feature, u.model, u.prompt_prefix_hash,
    max(u.prefix_tokens),
    max(u.min_prefix_tokens),
    count(),
    min(u.ts),
    max(u.ts),
    countIf(NOT u.read_5m),
    countIf(NOT u.read_1h),
    sum(toDecimal128(u.prefix_tokens, 0) * p.input_usd) AS uncached_cost,
    sum(toDecimal128(u.prefix_tokens, 0) * if(u.read_5m, p.cache_read_usd, p.cache_write_5m_usd)) AS cost_5m,
    sum(toDecimal128(u.prefix_tokens, 0) * if(u.read_1h, p.cache_read_usd, p.cache_write_1h_usd)) AS cost_1h,
    if(cost_1h < cost_5m, '1h', '5m'),
    uncached_cost - least(cost_5m, cost_1h) AS saving,
    saving * 30 / {lookback_days:UInt32}
FROM
(
    SELECT
        ts, team, feature, model, prompt_prefix_hash, prefix_tokens, min_prefix_tokens, price_cell,
        prev_ts IS NOT NULL AND ts <= prev_ts + INTERVAL 300 SECOND   AS read_5m,
        prev_ts IS NOT NULL AND ts <= prev_ts + INTERVAL 3600 SECOND  AS read_1h
    FROM
    (
        SELECT
            e.ts AS ts, e.team AS team, e.feature AS feature, e.model AS model,
            e.prompt_prefix_hash AS prompt_prefix_hash, e.prompt_prefix_tokens AS prefix_tokens,
            m.min_prefix_tokens AS min_prefix_tokens, e.price_cell AS price_cell,
            lagInFrame(toNullable(e.ts)) OVER (
                PARTITION BY e.team, e.feature, e.model, e.prompt_prefix_hash
                ORDER BY e.ts, e.event_id
                ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
            ) AS prev_ts
        FROM
        (
            SELECT
                event_id, ts, team, feature, model, prompt_prefix_hash, prompt_prefix_tokens, service_tier,
                ledger_model_family(model) AS family,
                ledger_price_cell(model,
                                  ledger_prompt_band(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                                     cache_write_1h_tokens),
                                  service_tier, speed, inference_geo) AS price_cell
            FROM usage_events FINAL
            WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts <= {end:DateTime64(3, 'UTC')}
              AND prompt_prefix_hash != '' AND prompt_prefix_tokens > 0
              AND input_tokens >= prompt_prefix_tokens
              AND cache_read_input_tokens = 0 AND cache_write_5m_tokens = 0 AND cache_write_1h_tokens = 0
        ) AS e
        INNER JOIN cache_minimums AS m ON m.model = e.family
        WHERE e.prompt_prefix_tokens >= m.min_prefix_tokens
    )
) AS u
ASOF LEFT JOIN cache_unit_prices AS p
    ON p.price_cell = u.price_cell AND p.effective_from <= toDate(u.ts)
GROUP BY u.team, u.feature, u.model, u.prompt_prefix_hash
HAVING countIf(p.input_usd IS NULL) = 0 AND saving > 0
SETTINGS join_use_nulls = 1
