-- Claude Code's split of its workspace's invoice per day and team in the month: the weights over which the
-- chargeback splits that workspace's allocated rows of the day (claude_code_charged_shares, migration 0148).
SELECT date, workspace_id, team, charged
FROM claude_code_charged_shares
WHERE toStartOfMonth(date) = {month:Date}
ORDER BY date, workspace_id, team
