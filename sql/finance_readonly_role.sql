-- Server mode only (not run on embedded chDB): a read-only role for finance analysts that can read the
-- finance views and nothing else. The views are SQL SECURITY DEFINER (migration 0024), so the role
-- needs no privilege on the tables under them. Run in the ledger's database as an admin, e.g.
--   clickhouse-client --database ledger --multiquery < sql/finance_readonly_role.sql
-- then: CREATE USER alice IDENTIFIED WITH sha256_password BY '…' DEFAULT ROLE finance_readonly;
--       GRANT finance_readonly TO alice;
CREATE ROLE IF NOT EXISTS finance_readonly;
-- The schema's version, so that `ledger sql` as this role can tell when the schema is behind the code.
GRANT SELECT ON schema_migrations TO finance_readonly;
GRANT SELECT ON finance_daily_spend TO finance_readonly;
GRANT SELECT ON finance_monthly_chargeback TO finance_readonly;
GRANT SELECT ON finance_unit_cost_by_feature TO finance_readonly;
GRANT SELECT ON finance_model_mix TO finance_readonly;
GRANT SELECT ON finance_reconciliation_daily TO finance_readonly;
