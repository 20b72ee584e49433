-- Which of the given alert keys were already delivered.
SELECT alert_key
FROM alerts_sent FINAL
WHERE has({keys:Array(String)}, alert_key)
