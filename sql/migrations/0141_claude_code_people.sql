-- Finance only: pseudonym -> email, written only when LEDGER_CONFIG people.store_emails is true (emptied when
-- it is false). No other table holds an email. On a server only a finance role may read it, through the view:
--   CREATE ROLE IF NOT EXISTS finance_people;
--   GRANT SELECT ON finance_claude_code_by_person TO finance_people;
-- (the view is SQL SECURITY DEFINER: the role needs nothing on the tables; docs/claude_code.md).
CREATE TABLE IF NOT EXISTS finance_claude_code_people
(
    pseudonym                   String,
    email                       String,
    team                        LowCardinality(String),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
ORDER BY pseudonym;

-- Claude Code per person and day: estimated cost by customer type, with the email where it is stored.
CREATE VIEW IF NOT EXISTS finance_claude_code_by_person DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    u.date                                                      AS date,
    u.actor_id                                                  AS pseudonym,
    p.email                                                     AS email,
    u.team                                                      AS team,
    sumIf(u.estimated_cost_usd, u.customer_type = 'api')        AS api_estimated_cost_usd,
    sumIf(u.estimated_cost_usd, u.customer_type = 'subscription') AS subscription_estimated_cost_usd,
    sum(u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_creation_tokens) AS tokens
FROM (SELECT * FROM claude_code_usage_daily FINAL WHERE actor_type = 'user_actor') AS u
LEFT JOIN (SELECT pseudonym, email FROM finance_claude_code_people FINAL) AS p ON p.pseudonym = u.actor_id
GROUP BY date, pseudonym, email, team
SETTINGS join_use_nulls = 1;
