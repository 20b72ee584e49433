-- Finance views (docs/finance.md): the only objects the read-only finance role may read
-- (sql/finance_readonly_role.sql). SQL SECURITY DEFINER lets that role read a view without
-- SELECT on the tables under it.

-- Showback per day: allocated spend by cost centre, team, feature, env, model and service tier.
CREATE VIEW IF NOT EXISTS finance_daily_spend DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    toDate(hour)                                    AS date,
    cost_center,
    team,
    feature,
    env,
    model,
    service_tier,
    sumIf(quantity, token_type = 'input')           AS input_tokens,
    sumIf(quantity, token_type = 'cache_write_5m')  AS cache_write_5m_tokens,
    sumIf(quantity, token_type = 'cache_write_1h')  AS cache_write_1h_tokens,
    sumIf(quantity, token_type = 'cache_read')      AS cache_read_tokens,
    sumIf(quantity, token_type = 'output')          AS output_tokens,
    sumIf(quantity, token_type = 'web_search')      AS web_search_requests,
    sum(list_cost_usd)                              AS list_cost_usd,
    sum(allocated_cost_usd)                         AS allocated_cost_usd,
    max(provisional)                                AS provisional
FROM allocation_hourly
GROUP BY date, cost_center, team, feature, env, model, service_tier;

-- Chargeback per month (after the shared-cost policy), amounts rounded to the cent.
CREATE VIEW IF NOT EXISTS finance_monthly_chargeback DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, cost_center, team, feature, env, model,
    input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, output_tokens,
    web_search_requests, list_cost_usd, allocated_cost_usd, share, provisional, shared_cost_policy
FROM chargeback_monthly;

-- Requests (application events, de-duplicated) and the spend allocated to them, per day and feature.
-- Unit costs of longer periods: sum(allocated_cost_usd) / sum(requests), not an average of ratios.
CREATE VIEW IF NOT EXISTS finance_unit_cost_by_feature DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    date, team, feature, env, requests, allocated_cost_usd,
    if(requests > 0, allocated_cost_usd / requests, NULL)          AS cost_per_request_usd,
    if(requests > 0, allocated_cost_usd * 1000 / requests, NULL)   AS cost_per_1k_requests_usd
FROM
(
    SELECT toDate(hour) AS date, team, feature, env, sum(allocated_cost_usd) AS allocated_cost_usd
    FROM allocation_hourly
    WHERE basis = 'events'
    GROUP BY date, team, feature, env
) AS cost
INNER JOIN
(
    SELECT toDate(ts) AS date, team, feature, env, count() AS requests
    FROM usage_events FINAL
    GROUP BY date, team, feature, env
) AS calls
USING (date, team, feature, env);

-- Model mix per month: tokens and allocated spend per model, with its share of the month's spend.
CREATE VIEW IF NOT EXISTS finance_model_mix DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, model, input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, output_tokens,
    web_search_requests, allocated_cost_usd,
    sum(allocated_cost_usd) OVER (PARTITION BY month)          AS month_cost_usd,
    if(month_cost_usd != 0, toDecimal128(allocated_cost_usd / month_cost_usd, 6), toDecimal128(0, 6)) AS cost_share
FROM
(
    SELECT
        month, model,
        sumIf(quantity, token_type = 'input')           AS input_tokens,
        sumIf(quantity, token_type = 'cache_write_5m')  AS cache_write_5m_tokens,
        sumIf(quantity, token_type = 'cache_write_1h')  AS cache_write_1h_tokens,
        sumIf(quantity, token_type = 'cache_read')      AS cache_read_tokens,
        sumIf(quantity, token_type = 'output')          AS output_tokens,
        sumIf(quantity, token_type = 'web_search')      AS web_search_requests,
        sum(allocated_cost_usd)                         AS allocated_cost_usd
    FROM allocation_hourly
    WHERE model != ''
    GROUP BY month, model
);

-- Reconciliation per day and workspace: how much of the Admin API's tokens the application events
-- explain (coverage), how much they over-count, and the allocated spend next to the cost report.
CREATE VIEW IF NOT EXISTS finance_reconciliation_daily DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    r.date                                                          AS date,
    r.workspace_id                                                  AS workspace_id,
    r.authority_tokens                                              AS authority_tokens,
    r.event_tokens                                                  AS event_tokens,
    r.explained_tokens                                              AS explained_tokens,
    r.overcount_tokens                                              AS overcount_tokens,
    r.pending_event_tokens                                          AS pending_event_tokens,
    if(r.authority_tokens > 0, round(r.explained_tokens / r.authority_tokens, 4), NULL) AS coverage,
    if(r.event_tokens > 0, round(r.overcount_tokens / r.event_tokens, 4), NULL)         AS overcount_rate,
    a.allocated_cost_usd                                            AS allocated_cost_usd,
    c.cost_report_usd                                               AS cost_report_usd
FROM allocation_reconciliation_daily AS r
LEFT JOIN
(
    SELECT toDate(hour) AS date, workspace_id, sum(allocated_cost_usd) AS allocated_cost_usd
    FROM allocation_hourly
    GROUP BY date, workspace_id
) AS a ON a.date = r.date AND a.workspace_id = r.workspace_id
LEFT JOIN
(
    SELECT date, workspace_id, sum(amount_usd) AS cost_report_usd
    FROM admin_cost_daily FINAL
    GROUP BY date, workspace_id
) AS c ON c.date = r.date AND c.workspace_id = r.workspace_id
SETTINGS join_use_nulls = 1;
