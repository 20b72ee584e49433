-- Per day and workspace of a month: the cost report's total next to what the allocation paid from it
-- (rows priced_from 'cost_report'); for a day without a report (NULL), the allocation is provisional at list
-- price, or at the rate the cost report last taught for a model without one (priced_from 'learned_rate', whose
-- list cost is 0): allocated_usd is then all of it, to compare with list_usd, which counts those learned rows at
-- their learned price. outside_report_usd: usage of a reported day that no report row covers (priced at list,
-- e.g. priority tier, which the cost report leaves out).
SELECT a.day AS day, a.workspace_id AS workspace_id, r.report_usd AS report_usd,
       if(r.report_usd IS NULL, a.all_usd, a.from_report_usd) AS allocated_usd, a.list_usd AS list_usd,
       if(r.report_usd IS NULL, toDecimal128(0, 12), a.all_usd - a.from_report_usd) AS outside_report_usd
FROM
(
    SELECT toDate(hour) AS day, workspace_id, sum(allocated_cost_usd) AS all_usd,
           sumIf(allocated_cost_usd, priced_from = 'cost_report') AS from_report_usd,
           sum(list_cost_usd) + sumIf(allocated_cost_usd, priced_from = 'learned_rate') AS list_usd
    FROM allocation_hourly
    WHERE month = {month:Date}
    GROUP BY day, workspace_id
) AS a
FULL OUTER JOIN
(
    SELECT date AS day, workspace_id, sum(amount_usd) AS report_usd
    FROM admin_cost_daily FINAL
    WHERE date >= {month:Date} AND date < addMonths({month:Date}, 1)
    GROUP BY day, workspace_id
) AS r
USING (day, workspace_id)
ORDER BY day, workspace_id
SETTINGS join_use_nulls = 1
