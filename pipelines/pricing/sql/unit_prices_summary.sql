-- For the unit_prices asset's metadata: rows by origin, and the models priced only by learned rates.
SELECT origin, count() AS rows, uniqExact(splitByChar('|', price_cell)[1]) AS models,
       groupUniqArray(10)(splitByChar('|', price_cell)[1]) AS some_models
FROM unit_prices
GROUP BY origin
ORDER BY origin
