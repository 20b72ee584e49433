-- The month's showback at the grain of a FOCUS charge (docs/finance.md "FOCUS export"): per (team, feature, env,
-- model, cost type) line and per workspace, token type, tier, context window, prompt band, inference geo, speed,
-- how it was priced and its list unit price: the price list's, or for a model missing from it (list cost 0) the
-- rate the cost report billed that SKU at over the month (its amount over its tokens). Exact amounts;
-- the export pays each chargeback line's cents out over its rows. workspace_name from admin_workspaces;
-- cost_center as allocated (a chargeback line's rows are those of its cost centre). The Claude Code workspace's
-- rows on a day its split exists (claude_code_charged_shares) are the rows of every team's Claude Code lines:
-- team '', feature 'claude-code', no cost centre, basis 'claude_code'.
SELECT a.team AS team, a.feature AS feature, a.env AS env, a.model AS model, a.cost_type AS cost_type,
       a.workspace_id AS workspace_id, ifNull(w.name, '') AS workspace_name, a.token_type AS token_type,
       a.service_tier AS service_tier, a.context_window AS context_window, a.prompt_band AS prompt_band,
       a.inference_geo AS inference_geo, a.speed AS speed, a.priced_from AS priced_from, a.basis AS basis,
       if(a.list_unit_price = 0 AND a.total_quantity > 0,
          toDecimal128(sum(a.total_allocated) OVER sku / sum(a.total_quantity) OVER sku, 12),
          a.list_unit_price) AS list_unit_price,
       a.total_quantity AS quantity, a.total_list_cost AS list_cost_usd,
       a.total_allocated AS allocated_cost_usd, a.cost_center AS cost_center
FROM
(
    SELECT if(claude_code, '', h.team) AS team, if(claude_code, 'claude-code', h.feature) AS feature, env, model,
           cost_type, workspace_id, token_type, service_tier, context_window, prompt_band, inference_geo, speed,
           priced_from, if(claude_code, 'claude_code', h.basis) AS basis,
           if(claude_code, '', h.cost_center) AS cost_center,
           if(quantity > 0 AND list_cost_usd > 0, toDecimal128(list_cost_usd / quantity, 12), toDecimal128(0, 12))
               AS list_unit_price,
           sum(quantity) AS total_quantity, sum(list_cost_usd) AS total_list_cost,
           sum(allocated_cost_usd) AS total_allocated
    FROM
    (
        SELECT *, (toDate(hour), workspace_id) IN (SELECT date, workspace_id FROM claude_code_charged_shares)
                  AS claude_code
        FROM allocation_hourly
        WHERE month = {month:Date}
    ) AS h
    GROUP BY team, feature, env, model, cost_type, workspace_id, token_type, service_tier, context_window, prompt_band,
             inference_geo, speed, priced_from, basis, list_unit_price, cost_center
) AS a
LEFT JOIN (SELECT workspace_id, argMax(name, extracted_at) AS name FROM admin_workspaces GROUP BY workspace_id) AS w
    ON w.workspace_id = a.workspace_id
WINDOW sku AS (PARTITION BY a.model, a.cost_type, a.token_type, a.service_tier, a.context_window, a.prompt_band,
                         a.inference_geo, a.speed, a.list_unit_price)
ORDER BY team, feature, env, model, cost_type, workspace_id, token_type, service_tier, context_window, prompt_band,
         inference_geo, speed, priced_from, basis, list_unit_price, cost_center
SETTINGS join_use_nulls = 1
