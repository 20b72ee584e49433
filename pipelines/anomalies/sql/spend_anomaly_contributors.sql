-- What moved in each spend anomaly of {anomalies} (window kind, window start, window end, scope, target,
-- baseline weeks), from the spend rollup: per dimension (feature, api key, model, team, workspace, and the
-- cell = team|feature|workspace|api key|model) other than the anomaly's own scope, each value's spend in the
-- window against the median of its spend in the same hours of the baseline weeks; the {top} values that
-- rose most per dimension. {since} .. {until}: the hours all the windows and their baseline weeks span.
SELECT
    window_kind, window_start, scope, target, dimension, value, actual_usd, median_usd
FROM
(
    SELECT
        window_kind, window_start, scope, target, dimension, value,
        sumIf(spend_usd, k = 0)                                                      AS actual_usd,
        groupArray((k, spend_usd))                                                   AS by_week,
        arrayReduce('median', arrayMap(i -> arraySum(arrayMap(p -> if(p.1 = i, p.2, 0), by_week)),
                                       range(1, baseline_weeks + 1)))                AS median_usd
    FROM
    (
        SELECT
            a.1 AS window_kind, a.2 AS window_start, a.4 AS scope, a.5 AS target, a.6 AS baseline_weeks,
            arrayFirstIndex(i -> hour >= a.2 - toIntervalDay(7 * i) AND hour < a.3 - toIntervalDay(7 * i),
                            range(0, a.6 + 1)) - 1                                   AS k,
            c.1 AS dimension, c.2 AS value, sum(spend_usd) AS spend_usd
        FROM spend_hourly FINAL
        ARRAY JOIN {anomalies:Array(Tuple(String, DateTime('UTC'), DateTime('UTC'), String, String, UInt8))} AS a
        ARRAY JOIN [('feature', feature), ('api_key', api_key_id), ('model', model), ('team', team),
                    ('workspace', workspace_id),
                    ('cell', concat(team, '|', feature, '|', workspace_id, '|', api_key_id, '|', model))] AS c
        WHERE hour >= {since:DateTime('UTC')} AND hour < {until:DateTime('UTC')}
          AND k >= 0
          AND c.1 != a.4
          AND multiIf(a.4 = 'workspace', workspace_id = a.5, a.4 = 'team', team = a.5, a.4 = 'feature', feature = a.5,
                      a.4 = 'api_key', api_key_id = a.5, a.4 = 'model', model = a.5, a.4 = 'org')
        GROUP BY window_kind, window_start, scope, target, baseline_weeks, k, dimension, value
    )
    GROUP BY window_kind, window_start, scope, target, baseline_weeks, dimension, value
)
WHERE actual_usd > median_usd
ORDER BY window_kind, window_start, scope, target, dimension, actual_usd - median_usd DESC, value
LIMIT {top:UInt8} BY window_kind, window_start, scope, target, dimension
