-- Size and total of the spend rollup from {from} on (for the asset's metadata).
SELECT count(), sum(spend_usd), sum(unpriced_units)
FROM spend_hourly FINAL
WHERE hour >= {from:DateTime('UTC')}
