-- Models of the usage events from {from} on that no rate-limit model group lists (rate_limit_model_groups):
-- their usage is measured against no configured limit. Nothing while no limits have been collected.
SELECT e.model, count() AS calls
FROM usage_events AS e FINAL
LEFT ANTI JOIN rate_limit_model_groups AS g ON g.model_family = ledger_model_family(e.model)
WHERE e.ts >= {from:DateTime64(3, 'UTC')} AND (SELECT count() FROM admin_rate_limits) > 0
GROUP BY e.model
ORDER BY calls DESC, e.model
