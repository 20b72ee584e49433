-- Showback for one month into allocation_hourly_staging (then swapped into allocation_hourly whole).
--
-- Quantities. Per cell (ledger_cell, migration 0170: hour x workspace x api key x model x service tier x context
-- window x inference geo x speed) and token type the Admin API quantity is the authority. Events of that cell
-- (allocation_event_cells) are given their tokens when they sum to no more than the authority; when they
-- over-count they are scaled down to it with largest-remainder integer rounding (ties by team, feature, env,
-- band), so quantities always sum exactly to the authority. The residual goes to the api key's owner, else
-- the workspace's owner (basis 'owner'), else to team 'unattributed'; residual rows have feature = env = ''.
--
-- Priced cost = quantity x unit_prices of the row's price cell (model family, prompt band, tier, speed, geo)
-- that day: an event row's band is its requests' own (ledger_prompt_band), a residual row's the Admin API's
-- (ledger_admin_prompt_band). list_cost_usd is it where the price is a list price (a model missing from the
-- list has none: 0). No price at all: 0, priced_from 'unpriced'.
--
-- Cost. Each cost report row of the month is split over the allocation rows it covers: same day, workspace
-- and cost type, and the same model family, token type, tier, context window, geo and speed where the
-- report's rows of that day, workspace and cost type name them (a report without a field covers every value
-- of it). The split is by priced cost (by quantity where the covered rows have none) with largest-
-- remainder rounding in units of 1e-12 USD: each report row is paid exactly, by its own model's rows, and
-- every line is at its real price (priced_from 'cost_report'). A report row that covers no usage (a model
-- without usage that day, code execution, session hours) becomes a row of basis 'cost_report_only' of its
-- model and cost type, for the workspace's owner when the cost type has no usage behind it, else
-- 'unattributed'. A row no report row covers is at list cost (or the last learned rate of a model without a
-- list price): provisional where the day and workspace have no cost report yet; otherwise usage billed
-- outside the cost report (priority tier).
--
-- Cost centre: ledger_cost_centre (migration 0147), the workspace's cost-centre tag, else the team's.
INSERT INTO allocation_hourly_staging
    (month, hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed, prompt_band,
     token_type, cost_type, team, feature, env, cost_center, basis, priced_from, quantity, list_cost_usd,
     allocated_cost_usd, provisional, computed_at)
WITH
    authority AS
    (
        SELECT ledger_cell(bucket_start, workspace_id, api_key_id, model, service_tier, context_window,
                           inference_geo, speed) AS cell,
               bucket_start AS hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo,
               speed, token.1 AS token_type, token.2 AS quantity
        FROM admin_usage_hourly FINAL
        ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                           cache_write_1h_tokens, output_tokens, web_search_requests) AS token
        WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')} AND quantity > 0
    ),
    event_cells AS
    (
        SELECT *, ledger_cell(hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo,
                              speed) AS cell
        FROM allocation_event_cells
        WHERE month = {month:Date}
    ),
    events_per_cell AS
    (
        SELECT cell, token_type, sum(quantity) AS events_total
        FROM event_cells
        GROUP BY cell, token_type
    ),
    scaled AS
    (
        SELECT cell, e.hour AS hour, e.workspace_id AS workspace_id, e.api_key_id AS api_key_id, e.model AS model,
               e.service_tier AS service_tier, e.context_window AS context_window, e.inference_geo AS inference_geo,
               e.speed AS speed, e.prompt_band AS prompt_band, e.token_type AS token_type,
               e.team AS team, e.feature AS feature, e.env AS env,
               a.quantity AS authority, c.events_total AS events_total,
               if(c.events_total <= a.quantity, toUInt128(e.quantity),
                  intDiv(toUInt128(a.quantity) * e.quantity, c.events_total)) AS base,
               if(c.events_total <= a.quantity, toUInt128(0),
                  (toUInt128(a.quantity) * e.quantity) % c.events_total) AS remainder
        FROM event_cells AS e
        INNER JOIN authority AS a USING (cell, token_type)
        INNER JOIN events_per_cell AS c USING (cell, token_type)
    ),
    event_rows AS
    (
        SELECT hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed, prompt_band,
               token_type, team, feature, env, 'events' AS basis,
               toUInt64(base + if(events_total > authority AND rank <= authority - base_sum, 1, 0)) AS quantity
        FROM
        (
            SELECT *,
                   sum(base) OVER cell_token AS base_sum,
                   row_number() OVER (PARTITION BY cell, token_type
                                      ORDER BY remainder DESC, team, feature, env, prompt_band) AS rank
            FROM scaled
            WINDOW cell_token AS (PARTITION BY cell, token_type)
        )
    ),
    residual_rows AS
    (
        SELECT hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed,
               ledger_admin_prompt_band(context_window) AS prompt_band, token_type,
               multiIf(api_key_id != '' AND has({key_ids:Array(String)}, api_key_id),
                       transform(api_key_id, {key_ids:Array(String)}, {key_owners:Array(String)}, ''),
                       has({workspace_ids:Array(String)}, workspace_id),
                       transform(workspace_id, {workspace_ids:Array(String)}, {workspace_owners:Array(String)}, ''),
                       'unattributed') AS team,
               '' AS feature, '' AS env,
               if(team = 'unattributed', 'unattributed', 'owner') AS basis,
               residual AS quantity
        FROM
        (
            SELECT a.hour AS hour, a.workspace_id AS workspace_id, a.api_key_id AS api_key_id, a.model AS model,
                   a.service_tier AS service_tier, a.context_window AS context_window,
                   a.inference_geo AS inference_geo, a.speed AS speed, a.token_type AS token_type,
                   a.quantity - ifNull(c.events_total, 0) AS residual
            FROM authority AS a
            LEFT JOIN events_per_cell AS c USING (cell, token_type)
            WHERE a.quantity > ifNull(c.events_total, 0)
        )
    ),
    -- The cost report rows of the month in the ledger's token-type names; '' where a row does not say.
    report AS
    (
        SELECT date AS day, workspace_id, cost_type, ledger_model_family(model) AS family,
               if(cost_type = 'tokens', ledger_cost_report_token_type(token_type), if(cost_type = 'web_search',
                  'web_search', token_type)) AS token_type,
               service_tier, context_window, inference_geo, speed, sum(amount_usd) AS report_usd
        FROM admin_cost_daily FINAL
        WHERE date >= toDate({start:DateTime('UTC')}) AND date < toDate({end:DateTime('UTC')})
        GROUP BY day, workspace_id, cost_type, family, token_type, service_tier, context_window, inference_geo, speed
    ),
    -- Which fields the report's rows of a day, workspace and cost type name.
    detail AS
    (
        SELECT day, workspace_id, cost_type,
               max(family != '') AS by_model, max(token_type != '') AS by_token_type,
               max(service_tier != '') AS by_tier, max(context_window != '') AS by_context,
               max(inference_geo != '') AS by_geo, max(speed != '') AS by_speed
        FROM report
        GROUP BY day, workspace_id, cost_type
    ),
    reported_days AS (SELECT DISTINCT day, workspace_id FROM report),
    priced AS
    (
        SELECT s.*, toDate(s.hour) AS day, if(s.token_type = 'web_search', 'web_search', 'tokens') AS cost_type,
               p.usd_per_unit AS usd_per_unit, p.origin AS origin,
               toDecimal128(ifNull(toDecimal128(s.quantity, 0) * p.usd_per_unit, 0), 12) AS priced_usd,
               if(p.origin = 'list', priced_usd, toDecimal128(0, 12)) AS list_cost_usd
        FROM
        (
            SELECT *, ledger_price_cell(model, prompt_band, service_tier, speed, inference_geo) AS price_cell
            FROM (SELECT * FROM event_rows UNION ALL SELECT * FROM residual_rows)
        ) AS s
        ASOF LEFT JOIN unit_prices AS p
            ON p.price_cell = s.price_cell AND p.token_type = s.token_type AND p.effective_from <= toDate(s.hour)
    ),
    -- Each row with the key of the report row that covers it.
    keyed AS
    (
        SELECT pr.*,
               if(d.by_model, ledger_model_family(pr.model), '') AS key_family,
               if(d.by_token_type, pr.token_type, '') AS key_token_type,
               if(d.by_tier, pr.service_tier, '') AS key_tier,
               if(d.by_context, pr.context_window, '') AS key_context,
               if(d.by_geo, pr.inference_geo, '') AS key_geo,
               if(d.by_speed, pr.speed, '') AS key_speed
        FROM priced AS pr
        LEFT JOIN detail AS d ON d.day = pr.day AND d.workspace_id = pr.workspace_id AND d.cost_type = pr.cost_type
    ),
    covered AS
    (
        SELECT k.*, r.report_usd AS report_usd
        FROM keyed AS k
        LEFT JOIN report AS r
            ON r.day = k.day AND r.workspace_id = k.workspace_id AND r.cost_type = k.cost_type
            AND r.family = k.key_family AND r.token_type = k.key_token_type AND r.service_tier = k.key_tier
            AND r.context_window = k.key_context AND r.inference_geo = k.key_geo AND r.speed = k.key_speed
    ),
    weighted AS
    (
        SELECT *,
               if(cell_list_units > 0, list_units, toInt256(quantity)) AS weight,
               if(cell_list_units > 0, cell_list_units, cell_quantity) AS cell_weight,
               toInt256(ifNull(report_usd, 0) * 1000000000000) AS report_units,
               intDiv(report_units * weight, cell_weight) AS base_units,
               (report_units * weight) % cell_weight AS remainder
        FROM
        (
            SELECT *,
                   toInt256(priced_usd * 1000000000000) AS list_units,
                   sum(list_units) OVER report_row AS cell_list_units,
                   sum(toInt256(quantity)) OVER report_row AS cell_quantity
            FROM covered
            WINDOW report_row AS (PARTITION BY day, workspace_id, cost_type, key_family, key_token_type, key_tier,
                                  key_context, key_geo, key_speed)
        )
    ),
    paid AS
    (
        SELECT *,
               base_units + if(rank <= report_units - base_sum, 1, 0) AS allocated_units
        FROM
        (
            SELECT *,
                   sum(base_units) OVER report_row AS base_sum,
                   row_number() OVER (PARTITION BY day, workspace_id, cost_type, key_family, key_token_type, key_tier,
                                      key_context, key_geo, key_speed
                                      ORDER BY remainder DESC, hour, api_key_id, model, service_tier, context_window,
                                               inference_geo, speed, prompt_band, token_type, team, feature, env)
                       AS rank
            FROM weighted
            WINDOW report_row AS (PARTITION BY day, workspace_id, cost_type, key_family, key_token_type, key_tier,
                                  key_context, key_geo, key_speed)
        )
    )
SELECT {month:Date}, hour, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed,
       prompt_band, token_type, cost_type, team, feature, env,
       ledger_cost_centre(transform(workspace_id, {tagged_workspace_ids:Array(String)},
                                    {workspace_cost_centers:Array(String)}, ''),
                          transform(team, {teams:Array(String)}, {cost_centers:Array(String)}, '')), basis,
       multiIf(report_usd IS NOT NULL, 'cost_report', origin = 'list', 'list', origin = 'learned', 'learned_rate',
               'unpriced'),
       quantity, list_cost_usd,
       if(report_usd IS NOT NULL, toDecimal128(allocated_units, 0) * toDecimal128('0.000000000001', 12),
          priced_usd),
       (day, workspace_id) NOT IN (SELECT day, workspace_id FROM reported_days),
       {computed_at:DateTime64(3, 'UTC')}
FROM paid
UNION ALL
SELECT {month:Date}, toDateTime(r.day, 'UTC'), r.workspace_id, '', r.family, r.service_tier, r.context_window,
       r.inference_geo, r.speed, '', 'cost_report_only', r.cost_type,
       if(r.cost_type IN ('code_execution', 'session_usage') AND has({workspace_ids:Array(String)}, r.workspace_id),
          transform(r.workspace_id, {workspace_ids:Array(String)}, {workspace_owners:Array(String)}, ''),
          'unattributed') AS owner,
       '', '', ledger_cost_centre(transform(r.workspace_id, {tagged_workspace_ids:Array(String)},
                                            {workspace_cost_centers:Array(String)}, ''),
                                  transform(owner, {teams:Array(String)}, {cost_centers:Array(String)}, '')),
       if(owner = 'unattributed', 'unattributed', 'owner'), 'cost_report', 0, toDecimal128(0, 12),
       toDecimal128(r.report_usd, 12), 0, {computed_at:DateTime64(3, 'UTC')}
FROM report AS r
LEFT ANTI JOIN (SELECT DISTINCT day, workspace_id, cost_type, key_family, key_token_type, key_tier, key_context,
                                key_geo, key_speed FROM keyed) AS k
    ON k.day = r.day AND k.workspace_id = r.workspace_id AND k.cost_type = r.cost_type AND k.key_family = r.family
    AND k.key_token_type = r.token_type AND k.key_tier = r.service_tier AND k.key_context = r.context_window
    AND k.key_geo = r.inference_geo AND k.key_speed = r.speed
SETTINGS join_use_nulls = 1
