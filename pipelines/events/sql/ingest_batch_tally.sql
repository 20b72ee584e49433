-- What one batch of lines became, as the rule views counted it while writing (migration 0100):
-- outcome '' = loaded, 'blank' = a blank file line, else the reject reason.
SELECT outcome, sum(lines), min(first_ts), max(last_ts)
FROM ingest_batches
WHERE batch = {batch:String}
GROUP BY outcome
