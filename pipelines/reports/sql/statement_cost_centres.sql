-- The cost centres charged in a month (each gets its own statement page when asked for).
SELECT DISTINCT cost_center FROM chargeback_monthly WHERE month = {month:Date} ORDER BY cost_center
