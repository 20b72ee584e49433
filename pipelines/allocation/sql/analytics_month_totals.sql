-- The Analytics API's month (optional source): days present, list and net cost of the days' total rows (rows of
-- other row types overlap them and are never added), and the oldest watermark of the month's days.
SELECT count() AS days,
       sum(list_amount_usd) AS list_usd,
       sum(net_amount_usd) AS net_usd,
       min(data_refreshed_at) AS data_refreshed_at
FROM analytics_cost_daily FINAL
WHERE row_type = 'total'
  AND date >= {month:Date} AND date < addMonths({month:Date}, 1)
