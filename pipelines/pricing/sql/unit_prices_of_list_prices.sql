-- The list half of the price lookup (unit_prices, migration 0090; written into {target}, the rebuild's table): for every model family, prompt band
-- (ledger_prompt_bands), service tier, speed and inference geo with a price, USD per unit of each token type
-- from each date any part of that price changes. Base: the family's schedule in force that day (its rows of
-- the latest effective_from), the row with the greatest prompt_tokens_above the band exceeds. Times the
-- multiplier of each dimension in force that day (the family's own row, else the '*' row); a value without
-- one has no price. Web search: per request, from service_prices, the same in every cell.
INSERT INTO {target:Identifier} (price_cell, token_type, effective_from, usd_per_unit, origin)
WITH
    bands AS (SELECT pair.1 AS band, pair.2 AS lower_bound FROM (SELECT arrayJoin(ledger_prompt_bands()) AS pair)),
    schedules AS
    (
        SELECT p.model AS family, p.effective_from AS effective_from, b.band AS band, p.token_type AS token_type,
               argMax(p.usd_per_unit, p.prompt_tokens_above) AS usd_per_unit
        FROM model_prices AS p
        CROSS JOIN bands AS b
        WHERE p.prompt_tokens_above <= b.lower_bound
        GROUP BY family, effective_from, band, token_type
    ),
    families AS (SELECT DISTINCT family FROM schedules),
    multipliers AS
    (
        SELECT f.family AS family, m.dimension AS dimension, m.value AS value, m.effective_from AS effective_from,
               m.multiplier AS multiplier, m.model = f.family AS own
        FROM families AS f
        CROSS JOIN price_multipliers AS m
        WHERE m.model = '*' OR m.model = f.family
    ),
    changes AS
    (
        SELECT family, effective_from AS day FROM schedules
        UNION DISTINCT SELECT family, effective_from FROM multipliers
        UNION DISTINCT SELECT f.family, s.effective_from FROM families AS f CROSS JOIN service_prices AS s
    ),
    base AS
    (
        SELECT c.family AS family, c.day AS day, s.band AS band, s.token_type AS token_type,
               argMax(s.usd_per_unit, s.effective_from) AS usd_per_unit
        FROM changes AS c
        INNER JOIN schedules AS s ON s.family = c.family
        WHERE s.effective_from <= c.day
        GROUP BY family, day, band, token_type
    ),
    factors AS
    (
        SELECT c.family AS family, c.day AS day, m.dimension AS dimension, m.value AS value,
               argMax(m.multiplier, (m.own, m.effective_from)) AS multiplier
        FROM changes AS c
        INNER JOIN multipliers AS m ON m.family = c.family
        WHERE m.effective_from <= c.day
        GROUP BY family, day, dimension, value
    ),
    cells AS
    (
        SELECT b.family AS family, b.day AS day, b.band AS band, t.value AS tier, s.value AS speed, g.value AS geo,
               b.token_type AS token_type, b.usd_per_unit * t.multiplier * s.multiplier * g.multiplier AS usd_per_unit
        FROM base AS b
        INNER JOIN factors AS t ON t.family = b.family AND t.day = b.day AND t.dimension = 'service_tier'
        INNER JOIN factors AS s ON s.family = b.family AND s.day = b.day AND s.dimension = 'speed'
        INNER JOIN factors AS g ON g.family = b.family AND g.day = b.day AND g.dimension = 'inference_geo'
    ),
    web_search AS
    (
        SELECT c.family AS family, c.day AS day, argMax(s.usd_per_unit, s.effective_from) AS usd_per_unit
        FROM changes AS c
        CROSS JOIN service_prices AS s
        WHERE s.cost_type = 'web_search' AND s.effective_from <= c.day
        GROUP BY family, day
    )
SELECT ledger_price_cell(family, band, tier, speed, geo), token_type, day, toDecimal128(usd_per_unit, 12), 'list'
FROM cells
UNION ALL
SELECT DISTINCT ledger_price_cell(c.family, c.band, c.tier, c.speed, c.geo), 'web_search', c.day,
       toDecimal128(w.usd_per_unit, 12), 'list'
FROM cells AS c
INNER JOIN web_search AS w ON w.family = c.family AND w.day = c.day
