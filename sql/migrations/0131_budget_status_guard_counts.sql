-- Beside each budget's spend, what the call-time budget guard did for it in the period (from usage_events):
-- calls refused (guard_action 'block') and calls sent on a cheaper model ('downgrade').
ALTER TABLE budget_status
    ADD COLUMN IF NOT EXISTS guard_blocked UInt64 DEFAULT 0 AFTER thresholds_crossed,
    ADD COLUMN IF NOT EXISTS guard_downgraded UInt64 DEFAULT 0 AFTER guard_blocked;
