-- The Analytics API's month (optional source): days present, list and net cost of the days' total rows (group
-- rows are a breakdown, never added), and when the oldest of those days was fetched.
SELECT count() AS days,
       sum(list_amount_usd) AS list_usd,
       sum(net_amount_usd) AS net_usd,
       min(extracted_at) AS fetched_at
FROM analytics_cost_daily FINAL
WHERE row_type = 'total'
  AND date >= {month:Date} AND date < addMonths({month:Date}, 1)
