-- The Usage and Cost Analytics API (beta, optional: LEDGER_CONFIG analytics_api.enabled) cost report per day,
-- GET /v1/organizations/analytics/cost_report (docs/analytics_api.md). row_type is the ledger's, not the API's:
-- 'total' = the day's one row of the ungrouped query (the API's "one total per bucket"); 'group' = one of the
-- day's rows of the query grouped by analytics_api.group_by. The API reports at most the top 100 groups of a
-- bucket and no remainder row, so a day's group rows may fall short of its total: the day's cost is its 'total'
-- row, never a sum of group rows. product / model '' = not grouped or null in the API.
-- list_amount_usd = list_amount (cents) / 100, net_amount_usd = amount (cents, after discounts, before credits)
-- / 100, exact. A re-fetched day replaces its rows (extracted_at: the fetch that wrote them).
CREATE TABLE IF NOT EXISTS analytics_cost_daily
(
    date                Date,
    row_type            LowCardinality(String),
    product             LowCardinality(String),
    model               LowCardinality(String),
    currency            LowCardinality(String),
    list_amount_usd     Decimal(38, 12),
    net_amount_usd      Decimal(38, 12),
    extracted_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, row_type, product, model, currency);
