"""claude-ledger: who spends what on Anthropic's Claude API, charged back and watched."""
