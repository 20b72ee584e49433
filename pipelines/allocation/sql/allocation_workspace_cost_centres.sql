-- Workspace -> the value of its cost-centre tag ({tag}: LEDGER_CONFIG cost_centre_tag), for the workspaces that
-- carry it with a non-blank value, from their newest fetch (docs/finance.md "Cost centres from workspace tags").
SELECT workspace_id, trimBoth(tags[{tag:String}]) AS cost_center
FROM admin_workspaces FINAL
WHERE cost_center != ''
ORDER BY workspace_id
