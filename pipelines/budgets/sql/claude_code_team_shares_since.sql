-- Claude Code's split of its workspace's invoice per day and team from {since} on (customer_type api): the
-- weights that move that workspace's spend from its owner to the teams whose people used Claude Code.
SELECT date, workspace_id, team, sum(charged_usd) AS charged
FROM claude_code_team_daily FINAL
WHERE date >= toDate({since:DateTime('UTC')}) AND customer_type = 'api'
GROUP BY date, workspace_id, team
HAVING charged > 0
ORDER BY date, workspace_id, team
