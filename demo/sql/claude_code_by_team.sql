-- The demo's Claude Code spend per team since {start}: charged (the Claude Code workspace's cost report split by
-- estimated share) and subscription seats' estimate (showback only).
SELECT team,
       sumIf(charged_usd, customer_type = 'api')                   AS charged_usd,
       sumIf(estimated_cost_usd, customer_type = 'subscription')   AS subscription_usd
FROM claude_code_team_daily FINAL
WHERE date >= {start:Date}
GROUP BY team
ORDER BY charged_usd DESC, team
