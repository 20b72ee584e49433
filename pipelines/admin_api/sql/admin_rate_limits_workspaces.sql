-- The workspaces whose rate limits the admin_rate_limits asset fetches: every workspace of the last
-- admin_workspaces fetch but the default one ('', which has no id in the API) and the archived ones.
SELECT workspace_id
FROM admin_workspaces FINAL
WHERE workspace_id != '' AND archived_at IS NULL
ORDER BY workspace_id
