-- people.store_emails is false: no email stays stored (also none that an earlier setting let in).
TRUNCATE TABLE finance_claude_code_people
