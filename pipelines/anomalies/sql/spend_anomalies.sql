-- Spend anomalies (docs/anomalies.md), from the spend rollup only. Windows, ending at the rollup's last hour
-- (or {now}'s hour if earlier): yesterday (the whole day), today so far, and the last {recent_hours} hours.
-- Each window of each watched scope (org, workspace, team, feature, api key, model) is compared with the same
-- hours of the same weekday in each of the {weeks} weeks before (weeks the rollup covers whole; a week
-- without spend counts as $0): baseline median, MAD, spread = max(1.4826 x MAD, {noise_floor} x median,
-- $0.01); expected range = median -/+ {threshold} x spread. An anomaly: at least {min_weeks} baseline weeks,
-- actual above the range, at least {min_usd}, and at least {min_increase_usd} above the median.
WITH
    (SELECT max(hour) FROM spend_hourly) + INTERVAL 1 HOUR                  AS data_end,
    (SELECT min(hour) FROM spend_hourly)                                    AS data_start,
    least(toStartOfHour({now:DateTime('UTC')}), data_end)                   AS cutoff,
    toStartOfDay(cutoff)                                                    AS today,
    arrayFilter(w -> w.2 < w.3, [
        ('day', today - INTERVAL 1 DAY, today),
        ('day', today, cutoff),
        ('hours', cutoff - toIntervalHour({recent_hours:UInt8}), cutoff)])  AS windows,
    arrayFlatten(arrayMap(w -> arrayMap(k -> (w, k), range(0, {weeks:UInt8} + 1)), windows)) AS window_weeks,
    toDecimal32('1.4826', 4)                                                AS mad_to_sigma
SELECT
    window_kind, toDate(window_end - INTERVAL 1 SECOND) AS day, window_start, window_end, scope, target,
    actual_usd, median_usd,
    greatest(median_usd - {threshold:Decimal(9, 3)} * spread_usd, toDecimal128(0, 12)) AS low_usd,
    median_usd + {threshold:Decimal(9, 3)} * spread_usd                         AS high_usd,
    toFloat64(actual_usd - median_usd) / toFloat64(spread_usd)                  AS score,
    length(baseline)                                                             AS baseline_weeks
FROM
(
    SELECT
        window_kind, window_start, window_end, scope, target,
        sumIf(spend_usd, k = 0)                                                  AS actual_usd,
        arrayMap(i -> arraySum(arrayMap(p -> if(p.1 = i, p.2, 0), by_week)),
                 arrayFilter(i -> window_start - toIntervalDay(7 * i) >= data_start,
                             range(1, {weeks:UInt8} + 1)))                      AS baseline,
        groupArray((k, spend_usd))                                               AS by_week,
        arrayReduce('median', baseline)                                          AS median_usd,
        greatest(arrayReduce('median', arrayMap(b -> abs(b - median_usd), baseline)) * mad_to_sigma,
                 median_usd * {noise_floor:Decimal(9, 3)}, toDecimal128('0.01', 12)) AS spread_usd
    FROM
    (
        SELECT
            wk.1.1 AS window_kind, wk.1.2 AS window_start, wk.1.3 AS window_end, wk.2 AS k,
            scope_target.1 AS scope, scope_target.2 AS target, sum(spend_usd) AS spend_usd
        FROM
        (
            SELECT
                team, feature, workspace_id, api_key_id, model, spend_usd,
                arrayJoin(arrayFilter(x -> hour >= x.1.2 - toIntervalDay(7 * x.2)
                                           AND hour < x.1.3 - toIntervalDay(7 * x.2), window_weeks)) AS wk
            FROM spend_hourly FINAL
            WHERE hour >= today - INTERVAL 1 DAY - toIntervalDay(7 * {weeks:UInt8}) AND hour < cutoff
        )
        ARRAY JOIN arrayFilter(s -> has({scopes:Array(String)}, s.1), [
            ('org', ''), ('workspace', workspace_id), ('team', team), ('feature', feature),
            ('api_key', api_key_id), ('model', model)]) AS scope_target
        GROUP BY window_kind, window_start, window_end, k, scope, target
    )
    GROUP BY window_kind, window_start, window_end, scope, target
)
WHERE baseline_weeks >= {min_weeks:UInt8}
  AND actual_usd >= {min_usd:Decimal(18, 6)}
  AND actual_usd - median_usd >= {min_increase_usd:Decimal(18, 6)}
  AND actual_usd > high_usd
ORDER BY day, window_kind, actual_usd DESC, scope, target
