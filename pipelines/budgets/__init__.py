"""Budgets: the spend rollup, each budget's status, and the Slack alerts when thresholds are crossed."""
