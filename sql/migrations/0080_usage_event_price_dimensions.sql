-- Two more price dimensions on each usage event (docs/events.md), recorded by the emitter from the Messages
-- API response (usage.speed with the fast-mode beta, usage.inference_geo) or, failing that, the request:
-- speed 'standard' or 'fast'; inference_geo as the Admin API names it ('global', 'us', ...), '' when the
-- event does not say (an older emitter, or a model without geo routing).
ALTER TABLE usage_events
    ADD COLUMN IF NOT EXISTS speed LowCardinality(String) DEFAULT 'standard' AFTER service_tier,
    ADD COLUMN IF NOT EXISTS inference_geo LowCardinality(String) DEFAULT '' AFTER speed;
