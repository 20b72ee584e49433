"""Claude Code usage per person and team: the usage_report/claude_code collector, its team split and reconciliation."""
