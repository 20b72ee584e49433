-- The days on which the chargeback books the Claude Code workspace to the teams that used it (docs/claude_code.md):
-- per day, workspace and team, Claude Code's split of that workspace's invoice (claude_code_team_daily,
-- customer_type api, charged > 0). A day absent here (no split yet, or no claude_code.workspace_id configured:
-- charged 0) leaves the workspace with its owner. The chargeback splits each allocated row of the workspace on
-- these days over the teams in proportion to `charged`; its FOCUS export takes those rows as Claude Code's.
CREATE VIEW IF NOT EXISTS claude_code_charged_shares AS
SELECT date, workspace_id, team, sum(charged_usd) AS charged
FROM claude_code_team_daily FINAL
WHERE customer_type = 'api'
GROUP BY date, workspace_id, team
HAVING charged > 0;
