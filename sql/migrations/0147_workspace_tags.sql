-- Workspace tags (Admin API workspace objects carry `tags`, user-defined string key-value pairs:
-- https://platform.claude.com/docs/en/api/admin-api/workspaces/get-workspace) and the cost-centre rule.
-- admin_workspaces stays ReplacingMergeTree(extracted_at): a workspace's newest fetch holds its tags; rows
-- written before this migration read as no tags ({}).
ALTER TABLE admin_workspaces ADD COLUMN IF NOT EXISTS tags Map(String, String) AFTER display_color;

-- The cost centre of spend, the one rule (docs/finance.md "Cost centres from workspace tags"): the value of
-- the cost-centre tag (LEDGER_CONFIG cost_centre_tag) on the spend's workspace, else its team's cost centre
-- (teams.<team>.cost_center; 'unassigned' for a declared team without one), else '' (nobody's: the
-- unattributed residual). The allocation writes it on every allocation_hourly row; chargeback keeps it and
-- gives a line without one (the residual the shared-cost policy moved to a team) the same team fallback.
CREATE OR REPLACE FUNCTION ledger_cost_centre AS (workspace_cost_centre, team_cost_centre) ->
    if(workspace_cost_centre != '', workspace_cost_centre, team_cost_centre);
