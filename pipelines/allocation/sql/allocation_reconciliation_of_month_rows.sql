-- The reconciliation rows of a month (allocation_reconciliation_daily), lowest coverage first.
SELECT date, workspace_id, authority_tokens, event_tokens, explained_tokens, overcount_tokens, pending_event_tokens
FROM allocation_reconciliation_daily
WHERE month = {month:Date}
ORDER BY if(authority_tokens > 0, explained_tokens / authority_tokens, 1), date, workspace_id
