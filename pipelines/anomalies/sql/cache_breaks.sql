-- Cache breaks (docs/anomalies.md), from the cache rollups only (cache_feature_daily, cache_waste_daily):
-- per team and feature, yesterday and the day before (days the rollups hold whole, i.e. before their last
-- day), each against the same weekday in each of the {weeks} weeks before that had traffic (the baseline
-- is the median of those weeks' figures).
-- cache_hit_drop: the hit ratio (cache reads / all input tokens) fell to at most (1 - {hit_ratio_drop}) of a
--   baseline of at least {min_baseline_hit_ratio}. Lost: the saving caching earned per input token on the
--   baseline days (realised savings / all input tokens) x the day's input tokens - the day's realised savings.
-- cache_unread_writes: the share of cache writes never read rose by at least {unread_share_rise} over the
--   baseline share. Lost: the unread writes beyond the baseline share, at the write premium (write price -
--   input price) the day's unread writes paid.
-- Both need {min_weeks} baseline weeks and at least {min_lost_usd} lost. The loss is summed over the feature's
-- models, each against its own baseline (the feature's, for a model without {min_weeks} weeks of its own,
-- e.g. one the feature just moved to), so a model that did not change loses nothing; the models that lost
-- most are the contributors. Arrays *_k hold a figure per week: index 1 the day itself, k + 1 k weeks before.
WITH
    (SELECT max(date) FROM cache_feature_daily)                                         AS last_day,
    arrayFilter(d -> d < last_day,
                [toDate({now:DateTime('UTC')}) - 1, toDate({now:DateTime('UTC')}) - 2])  AS days,
    arrayFlatten(arrayMap(d -> arrayMap(k -> (d, k), range(0, {weeks:UInt8} + 1)), days)) AS day_weeks,
    arrayMap(x -> x.1 - toIntervalDay(7 * x.2), day_weeks)                               AS dates,
    range(1, {weeks:UInt8} + 1)                                                          AS baseline
SELECT kind, day, team, feature, actual_ratio, expected_ratio, tokens, baseline_weeks, lost_usd, contributors
FROM
(
    SELECT
        per_kind.1 AS kind, day, team, feature,
        any(per_kind.2) AS actual_ratio, any(per_kind.3) AS expected_ratio, any(per_kind.4) AS tokens,
        any(per_kind.5) AS baseline_weeks, any(per_kind.6) AS qualifies, sum(per_kind.7) AS lost_usd,
        arraySlice(arrayReverseSort(m -> m.2, arrayFilter(m -> m.2 > 0, groupArray((model, per_kind.7)))), 1, 3)
            AS contributors
    FROM
    (
        SELECT
            day, team, feature, model,
            sumForEach(input_k) OVER feature_days                                       AS f_input_k,
            sumForEach(reads_k) OVER feature_days                                       AS f_reads_k,
            sumForEach(savings_k) OVER feature_days                                     AS f_savings_k,
            sumForEach(writes_k) OVER feature_days                                      AS f_writes_k,
            sumForEach(wasted_k) OVER feature_days                                      AS f_wasted_k,
            arrayFilter(i -> f_input_k[i + 1] > 0, baseline)                            AS f_input_weeks,
            arrayFilter(i -> f_writes_k[i + 1] > 0, baseline)                           AS f_write_weeks,
            arrayReduce('median', arrayMap(i -> f_reads_k[i + 1] / f_input_k[i + 1], f_input_weeks)) AS f_hit_ratio,
            arrayReduce('median', arrayMap(i -> toDecimal128(f_savings_k[i + 1], 18) / f_input_k[i + 1],
                                           f_input_weeks))                              AS f_saving_rate,
            arrayReduce('median', arrayMap(i -> f_wasted_k[i + 1] / f_writes_k[i + 1], f_write_weeks)) AS f_unread,
            arrayFilter(i -> input_k[i + 1] > 0, baseline)                              AS m_input_weeks,
            arrayFilter(i -> writes_k[i + 1] > 0, baseline)                             AS m_write_weeks,
            if(length(m_input_weeks) >= {min_weeks:UInt8},
               arrayReduce('median', arrayMap(i -> toDecimal128(savings_k[i + 1], 18) / input_k[i + 1], m_input_weeks)),
               f_saving_rate)                                                           AS saving_rate,
            if(length(m_write_weeks) >= {min_weeks:UInt8},
               arrayReduce('median', arrayMap(i -> wasted_k[i + 1] / writes_k[i + 1], m_write_weeks)),
               f_unread)                                                                AS unread_share,
            saving_rate * input_k[1] - savings_k[1]                                     AS lost_saving_usd,
            if(wasted_k[1] > 0 AND length(f_write_weeks) > 0,
               toDecimal128(greatest(wasted_k[1] - unread_share * writes_k[1], 0), 0) * premium_k[1]
                   / greatest(wasted_k[1], 1),
               toDecimal128(0, 12))                                                     AS lost_premium_usd,
            [('cache_hit_drop', f_reads_k[1] / f_input_k[1], f_hit_ratio, f_input_k[1], length(f_input_weeks),
              f_input_k[1] > 0 AND length(f_input_weeks) >= {min_weeks:UInt8}
                  AND f_hit_ratio >= {min_baseline_hit_ratio:Float64}
                  AND f_reads_k[1] / f_input_k[1] <= f_hit_ratio * (1 - {hit_ratio_drop:Float64}),
              lost_saving_usd),
             ('cache_unread_writes', f_wasted_k[1] / f_writes_k[1], f_unread, f_writes_k[1], length(f_write_weeks),
              f_writes_k[1] > 0 AND length(f_write_weeks) >= {min_weeks:UInt8}
                  AND f_wasted_k[1] / f_writes_k[1] >= f_unread + {unread_share_rise:Float64},
              lost_premium_usd)]                                                        AS kinds
        FROM
        (
            SELECT
                dk.1 AS day, team, feature, model,
                sumForEach(arrayMap(i -> if(dk.2 = i, all_input, 0), range(0, {weeks:UInt8} + 1)))  AS input_k,
                sumForEach(arrayMap(i -> if(dk.2 = i, reads, 0), range(0, {weeks:UInt8} + 1)))      AS reads_k,
                sumForEach(arrayMap(i -> if(dk.2 = i, savings, toDecimal128(0, 12)),
                                    range(0, {weeks:UInt8} + 1)))                                  AS savings_k,
                sumForEach(arrayMap(i -> if(dk.2 = i, writes, 0), range(0, {weeks:UInt8} + 1)))     AS writes_k,
                sumForEach(arrayMap(i -> if(dk.2 = i, wasted, 0), range(0, {weeks:UInt8} + 1)))     AS wasted_k,
                sumForEach(arrayMap(i -> if(dk.2 = i, premium, toDecimal128(0, 12)),
                                    range(0, {weeks:UInt8} + 1)))                                  AS premium_k
            FROM
            (
                SELECT date, team, feature, model,
                       input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens AS all_input,
                       cache_read_tokens AS reads, realised_savings_usd AS savings,
                       toUInt64(0) AS writes, toUInt64(0) AS wasted, toDecimal128(0, 12) AS premium
                FROM cache_feature_daily FINAL
                WHERE has(dates, date)
                UNION ALL
                SELECT date, team, feature, model, 0, 0, toDecimal128(0, 12),
                       cache_write_5m_tokens + cache_write_1h_tokens, wasted_5m_tokens + wasted_1h_tokens,
                       wasted_premium_usd
                FROM cache_waste_daily FINAL
                WHERE has(dates, date)
            )
            ARRAY JOIN arrayFilter(x -> date = x.1 - toIntervalDay(7 * x.2), day_weeks) AS dk
            GROUP BY day, team, feature, model
        )
        WINDOW feature_days AS (PARTITION BY day, team, feature)
    )
    ARRAY JOIN kinds AS per_kind
    GROUP BY kind, day, team, feature
)
WHERE qualifies AND lost_usd >= {min_lost_usd:Decimal(18, 6)}
ORDER BY day, kind, lost_usd DESC, team, feature
