-- What the call-time budget guard did to a call (docs/events.md, docs/emitter.md "Budget guard"):
-- requested_model: the model the caller asked for ('' from an older emitter); model stays the one used.
-- guard_action: '' (let through as asked), 'block' (refused: nothing was sent, zero usage) or 'downgrade'
-- (sent on a cheaper model); guard_budget: the id of the budget whose policy did it.
ALTER TABLE usage_events
    ADD COLUMN IF NOT EXISTS requested_model LowCardinality(String) DEFAULT '' AFTER model,
    ADD COLUMN IF NOT EXISTS guard_action LowCardinality(String) DEFAULT '' AFTER prompt_prefix_tokens,
    ADD COLUMN IF NOT EXISTS guard_budget LowCardinality(String) DEFAULT '' AFTER guard_action;
