-- Per day and workspace of a month: the cost report's total next to the allocated total (NULL report:
-- no cost report yet, the day is provisional at list price).
SELECT a.day AS day, a.workspace_id AS workspace_id, r.report_usd AS report_usd, a.allocated_usd AS allocated_usd,
       a.list_usd AS list_usd
FROM
(
    SELECT toDate(hour) AS day, workspace_id, sum(allocated_cost_usd) AS allocated_usd, sum(list_cost_usd) AS list_usd
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
