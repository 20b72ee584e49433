-- The spend rollup by model as well (docs/anomalies.md): spend anomalies are watched per model, and every
-- anomaly names the key, model or feature that moved, so spend_hourly keeps the model family
-- (ledger_model_family) of each row. Still a rollup: one row per hour and (team, feature, env, workspace,
-- api key, model). Rows written before this migration have model '' until the spend_hourly asset rewrites
-- their month. The staging table gets the same structure, so a rebuilt month still swaps in whole.
ALTER TABLE spend_hourly
    ADD COLUMN IF NOT EXISTS model LowCardinality(String) AFTER api_key_id,
    MODIFY ORDER BY (hour, team, feature, env, workspace_id, api_key_id, model);

ALTER TABLE spend_hourly_staging
    ADD COLUMN IF NOT EXISTS model LowCardinality(String) AFTER api_key_id,
    MODIFY ORDER BY (hour, team, feature, env, workspace_id, api_key_id, model);
