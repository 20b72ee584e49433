-- Prompt caching per team in a month: savings realised by cache reads, money lost on cache writes never read
-- (the premium above the input price), and the estimated monthly saving of prefixes sent without caching
-- (from the latest cache analysis window, which need not be this month).
SELECT team, sum(realised) AS realised_usd, sum(wasted) AS wasted_premium_usd, sum(missed) AS uncached_saving_usd
FROM
(
    SELECT team, sum(realised_savings_usd) AS realised, toDecimal128(0, 12) AS wasted, toDecimal128(0, 12) AS missed
    FROM cache_feature_daily FINAL
    WHERE toStartOfMonth(date) = {month:Date}
    GROUP BY team
    UNION ALL
    SELECT team, toDecimal128(0, 12), sum(wasted_premium_usd), toDecimal128(0, 12)
    FROM cache_waste_daily FINAL
    WHERE toStartOfMonth(date) = {month:Date}
    GROUP BY team
    UNION ALL
    SELECT team, toDecimal128(0, 12), toDecimal128(0, 12), sum(monthly_saving_usd)
    FROM cache_opportunities
    GROUP BY team
)
WHERE has({teams:Array(String)}, team) OR empty({teams:Array(String)})
GROUP BY team
ORDER BY team
