-- The demo's Claude Code estimate against the cost report of its workspace since {start}.
SELECT sum(estimated_cost_usd), sum(cost_report_usd), sum(difference_usd)
FROM claude_code_reconciliation_daily FINAL
WHERE date >= {start:Date} AND cost_report_present
