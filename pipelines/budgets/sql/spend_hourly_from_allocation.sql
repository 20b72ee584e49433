-- Rollup rows for hours the allocation covers: allocated (Admin-API-authoritative) cost.
INSERT INTO {build:Identifier}
    (hour, team, feature, env, workspace_id, api_key_id, model, source, spend_usd, unpriced_units, refreshed_at)
SELECT
    hour, team, feature, env, workspace_id, api_key_id, ledger_model_family(model),
    'admin',
    sum(allocated_cost_usd),
    0,
    {refreshed_at:DateTime64(3, 'UTC')}
FROM allocation_hourly
WHERE hour >= {from:DateTime('UTC')} AND hour < {until:DateTime('UTC')}
GROUP BY hour, team, feature, env, workspace_id, api_key_id, ledger_model_family(model)
