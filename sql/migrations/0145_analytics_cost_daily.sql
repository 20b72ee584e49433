-- The Usage and Cost Analytics API (beta, optional: LEDGER_CONFIG analytics_api.enabled) cost report per day.
-- row_type: 'total' = the whole day; 'group' = one of the day's top groups (at most 100); 'other' = the groups
-- beyond them, as one remainder row. Rows of different row_type overlap: the day's cost is its 'total' row,
-- never a sum of rows. workspace_id / model '' = not grouped (the API's null).
-- list_amount_usd = list_amount (cents) / 100, net_amount_usd = amount (cents, after discounts) / 100, exact.
-- data_refreshed_at: the watermark of the fetch that wrote the row. A re-fetched day replaces its rows.
CREATE TABLE IF NOT EXISTS analytics_cost_daily
(
    date                Date,
    row_type            LowCardinality(String),
    workspace_id        LowCardinality(String),
    model               LowCardinality(String),
    currency            LowCardinality(String),
    groups              UInt32,
    list_amount_usd     Decimal(38, 12),
    net_amount_usd      Decimal(38, 12),
    data_refreshed_at   DateTime('UTC'),
    extracted_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, row_type, workspace_id, model, currency);
