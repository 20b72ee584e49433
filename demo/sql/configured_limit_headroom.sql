-- The demo's configured-limit headroom: per workspace and model group, the limiter that came closest to its
-- configured limit in rate_limit_health's window (the busiest minute of any hour), closest first.
SELECT
    if(u.workspace_id = '', 'Default', any(w.name)) AS workspace,
    u.group_name,
    argMax(u.limit_type, u.share) AS limiter,
    argMax(u.limit_value, u.share) AS limit_value,
    argMax(u.peak_per_minute, u.share) AS peak,
    max(u.share) AS share
FROM configured_limit_usage_hourly AS u FINAL
LEFT JOIN (SELECT workspace_id, name FROM admin_workspaces FINAL) AS w ON w.workspace_id = u.workspace_id
WHERE u.subject = 'workspace'
GROUP BY u.workspace_id, u.group_name
ORDER BY share DESC, workspace, u.group_name
LIMIT {rows:UInt32}
