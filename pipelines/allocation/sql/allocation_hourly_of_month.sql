-- Showback for one month into allocation_hourly_staging (then swapped into allocation_hourly whole).
--
-- Per cell (hour x workspace x api key x model x service tier x context window) and token type the
-- Admin API quantity is the authority. Events of that cell (allocation_event_cells) are given their
-- tokens when they sum to no more than the authority; when they over-count they are scaled down to it
-- with largest-remainder integer rounding (ties by team, feature, env), so quantities always sum
-- exactly to the authority. The residual goes to the api key's owner, else the workspace's owner
-- (basis 'owner'), else to team 'unattributed'; residual rows have feature = env = ''.
--
-- list_cost_usd = quantity x the unit price in force that day (unit_prices: model family, context window,
-- service tier, token type). A model without a price costs 0 here and is reported by the unknown-models check. Where the cost report has the day and workspace, allocated_cost_usd
-- is the report amount split by list cost (by quantity when the list cost is 0) with largest-remainder
-- rounding in units of 1e-12 USD, so it sums to the report exactly; a report amount with no usage
-- behind it becomes one 'unattributed' row of token_type 'cost_report_only'. Days without a report
-- are provisional, at list price.
INSERT INTO allocation_hourly_staging
    (month, hour, workspace_id, api_key_id, model, service_tier, context_window, token_type, team, feature, env,
     cost_center, basis, quantity, list_cost_usd, allocated_cost_usd, provisional, computed_at)
WITH
    authority AS
    (
        SELECT bucket_start AS hour, workspace_id, api_key_id, model, service_tier, context_window,
               cell.1 AS token_type, cell.2 AS quantity
        FROM admin_usage_hourly FINAL
        ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                           cache_write_1h_tokens, output_tokens, web_search_requests) AS cell
        WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')} AND quantity > 0
    ),
    events_per_cell AS
    (
        SELECT hour, workspace_id, api_key_id, model, service_tier, context_window, token_type,
               sum(quantity) AS events_total
        FROM allocation_event_cells
        WHERE month = {month:Date}
        GROUP BY hour, workspace_id, api_key_id, model, service_tier, context_window, token_type
    ),
    scaled AS
    (
        SELECT e.hour AS hour, e.workspace_id AS workspace_id, e.api_key_id AS api_key_id, e.model AS model,
               e.service_tier AS service_tier, e.context_window AS context_window, e.token_type AS token_type,
               e.team AS team, e.feature AS feature, e.env AS env,
               a.quantity AS authority, c.events_total AS events_total,
               if(c.events_total <= a.quantity, toUInt128(e.quantity),
                  intDiv(toUInt128(a.quantity) * e.quantity, c.events_total)) AS base,
               if(c.events_total <= a.quantity, toUInt128(0),
                  (toUInt128(a.quantity) * e.quantity) % c.events_total) AS remainder
        FROM allocation_event_cells AS e
        INNER JOIN authority AS a
            USING (hour, workspace_id, api_key_id, model, service_tier, context_window, token_type)
        INNER JOIN events_per_cell AS c
            USING (hour, workspace_id, api_key_id, model, service_tier, context_window, token_type)
        WHERE e.month = {month:Date}
    ),
    event_rows AS
    (
        SELECT hour, workspace_id, api_key_id, model, service_tier, context_window, token_type, team, feature, env,
               'events' AS basis,
               toUInt64(base + if(events_total > authority AND rank <= authority - base_sum, 1, 0)) AS quantity
        FROM
        (
            SELECT *,
                   sum(base) OVER cell AS base_sum,
                   row_number() OVER (PARTITION BY hour, workspace_id, api_key_id, model, service_tier,
                                      context_window, token_type
                                      ORDER BY remainder DESC, team, feature, env) AS rank
            FROM scaled
            WINDOW cell AS (PARTITION BY hour, workspace_id, api_key_id, model, service_tier, context_window,
                            token_type)
        )
    ),
    residual_rows AS
    (
        SELECT hour, workspace_id, api_key_id, model, service_tier, context_window, token_type,
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
                   a.service_tier AS service_tier, a.context_window AS context_window, a.token_type AS token_type,
                   a.quantity - ifNull(c.events_total, 0) AS residual
            FROM authority AS a
            LEFT JOIN events_per_cell AS c
                USING (hour, workspace_id, api_key_id, model, service_tier, context_window, token_type)
            WHERE a.quantity > ifNull(c.events_total, 0)
        )
    ),
    priced AS
    (
        SELECT s.hour AS hour, s.workspace_id AS workspace_id, s.api_key_id AS api_key_id, s.model AS model,
               s.service_tier AS service_tier, s.context_window AS context_window, s.token_type AS token_type,
               s.team AS team, s.feature AS feature, s.env AS env, s.basis AS basis, s.quantity AS quantity,
               toDecimal128(ifNull(toDecimal128(s.quantity, 0) * p.usd_per_unit, 0), 12) AS list_cost_usd
        FROM
        (
            SELECT *, ledger_price_cell(model, context_window, service_tier) AS price_cell, toDate(hour) AS day
            FROM (SELECT * FROM event_rows UNION ALL SELECT * FROM residual_rows)
        ) AS s
        ASOF LEFT JOIN unit_prices AS p
            ON p.price_cell = s.price_cell AND p.token_type = s.token_type AND p.effective_from <= s.day
    ),
    report AS
    (
        SELECT date AS day, workspace_id, sum(amount_usd) AS report_usd
        FROM admin_cost_daily FINAL
        WHERE date >= toDate({start:DateTime('UTC')}) AND date < toDate({end:DateTime('UTC')})
        GROUP BY date, workspace_id
    ),
    weighted AS
    (
        SELECT *,
               if(day_list_units > 0, list_units, toInt256(quantity)) AS weight,
               if(day_list_units > 0, day_list_units, day_quantity) AS day_weight,
               toInt256(ifNull(report_usd, 0) * 1000000000000) AS report_units,
               intDiv(report_units * weight, day_weight) AS base_units,
               (report_units * weight) % day_weight AS remainder
        FROM
        (
            SELECT *,
                   sum(list_units) OVER day_workspace AS day_list_units,
                   sum(toInt256(quantity)) OVER day_workspace AS day_quantity
            FROM
            (
                SELECT pr.*, toDate(pr.hour) AS day, r.report_usd AS report_usd,
                       toInt256(pr.list_cost_usd * 1000000000000) AS list_units
                FROM priced AS pr
                LEFT JOIN report AS r ON r.day = toDate(pr.hour) AND r.workspace_id = pr.workspace_id
            )
            WINDOW day_workspace AS (PARTITION BY day, workspace_id)
        )
    ),
    trued_up AS
    (
        SELECT *,
               isNull(report_usd) AS provisional,
               base_units + if(rank <= report_units - base_sum, 1, 0) AS allocated_units
        FROM
        (
            SELECT *,
                   sum(base_units) OVER (PARTITION BY day, workspace_id) AS base_sum,
                   row_number() OVER (PARTITION BY day, workspace_id
                                      ORDER BY remainder DESC, hour, api_key_id, model, service_tier, context_window,
                                               token_type, team, feature, env) AS rank
            FROM weighted
        )
    )
SELECT {month:Date}, hour, workspace_id, api_key_id, model, service_tier, context_window, token_type, team, feature,
       env, transform(team, {teams:Array(String)}, {cost_centers:Array(String)}, ''), basis, quantity, list_cost_usd,
       if(provisional, list_cost_usd, toDecimal128(allocated_units, 0) * toDecimal128('0.000000000001', 12)),
       provisional, {computed_at:DateTime64(3, 'UTC')}
FROM trued_up
UNION ALL
SELECT {month:Date}, toDateTime(r.day, 'UTC'), r.workspace_id, '', '', '', '', 'cost_report_only', 'unattributed', '',
       '', transform('unattributed', {teams:Array(String)}, {cost_centers:Array(String)}, ''), 'unattributed',
       0, toDecimal128(0, 12), toDecimal128(r.report_usd, 12), 0, {computed_at:DateTime64(3, 'UTC')}
FROM report AS r
WHERE (r.day, r.workspace_id) NOT IN (SELECT DISTINCT toDate(hour), workspace_id FROM authority)
SETTINGS join_use_nulls = 1
