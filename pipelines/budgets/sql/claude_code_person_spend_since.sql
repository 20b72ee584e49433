-- Claude Code's estimated cost per day and person (pseudonym) from {since} on, api and subscription alike:
-- what a budget of scope person measures.
SELECT date, actor_id, sum(estimated_cost_usd) AS estimated_usd
FROM claude_code_usage_daily FINAL
WHERE date >= toDate({since:DateTime('UTC')}) AND actor_type = 'user_actor'
GROUP BY date, actor_id
ORDER BY date, actor_id
