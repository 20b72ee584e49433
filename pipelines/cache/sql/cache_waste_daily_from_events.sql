-- Cache writes since {from} never read within their lifetime, per day of the write, team, feature and
-- model. A write is read when a later use of the same prefix (team, feature, model,
-- prompt_prefix_hash) reads the cache within the write's TTL (5m: 300 s, 1h: 3600 s); the next read
-- is found with a running min over the prefix's uses in reverse time order. A write whose TTL ends after
-- {until} (the end of the data) and that has no read yet is pending, not waste.
-- wasted_write_usd: the unread writes at their write price; wasted_premium_usd: at (write price -
-- input price), i.e. what they cost above sending the tokens uncached. Tier multiplier applied.
INSERT INTO cache_waste_daily
    (date, team, feature, model, cache_write_5m_tokens, cache_write_1h_tokens, wasted_5m_tokens,
     wasted_1h_tokens, pending_write_tokens, wasted_write_usd, wasted_premium_usd, unpriced_wasted_tokens,
     computed_at)
SELECT
    toDate(w.ts) AS date, w.team, w.feature, w.model,
    sum(w.writes_5m),
    sum(w.writes_1h),
    sum(w.wasted_5m),
    sum(w.wasted_1h),
    sumIf(w.writes_5m, w.unread_5m AND NOT w.expired_5m) + sumIf(w.writes_1h, w.unread_1h AND NOT w.expired_1h),
    sum(ifNull(toDecimal128(w.wasted_5m, 0) * p.cache_write_5m_usd + toDecimal128(w.wasted_1h, 0) * p.cache_write_1h_usd,
               toDecimal128(0, 12))),
    sum(ifNull(toDecimal128(w.wasted_5m, 0) * (p.cache_write_5m_usd - p.input_usd)
               + toDecimal128(w.wasted_1h, 0) * (p.cache_write_1h_usd - p.input_usd),
               toDecimal128(0, 12))),
    sumIf(w.wasted_5m + w.wasted_1h, p.input_usd IS NULL),
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        ts, team, feature, model, price_cell, writes_5m, writes_1h,
        writes_5m > 0 AND (next_read_ts IS NULL OR next_read_ts > ts + INTERVAL 300 SECOND)   AS unread_5m,
        writes_1h > 0 AND (next_read_ts IS NULL OR next_read_ts > ts + INTERVAL 3600 SECOND)  AS unread_1h,
        ts + INTERVAL 300 SECOND <= {until:DateTime64(3, 'UTC')}                              AS expired_5m,
        ts + INTERVAL 3600 SECOND <= {until:DateTime64(3, 'UTC')}                             AS expired_1h,
        if(unread_5m AND expired_5m, writes_5m, 0)                                            AS wasted_5m,
        if(unread_1h AND expired_1h, writes_1h, 0)                                            AS wasted_1h
    FROM
    (
        SELECT
            ts, team, feature, model,
            ledger_price_cell(model,
                              ledger_prompt_band(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                                 cache_write_1h_tokens),
                              service_tier, speed, inference_geo) AS price_cell,
            cache_write_5m_tokens AS writes_5m,
            cache_write_1h_tokens AS writes_1h,
            min(if(cache_read_input_tokens > 0, ts, NULL)) OVER (
                PARTITION BY team, feature, model, prompt_prefix_hash
                ORDER BY ts DESC, event_id DESC
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS next_read_ts
        FROM usage_events FINAL
        WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts <= {until:DateTime64(3, 'UTC')}
    )
    WHERE writes_5m + writes_1h > 0
) AS w
ASOF LEFT JOIN cache_unit_prices AS p
    ON p.price_cell = w.price_cell AND p.effective_from <= toDate(w.ts)
GROUP BY date, w.team, w.feature, w.model
SETTINGS join_use_nulls = 1
