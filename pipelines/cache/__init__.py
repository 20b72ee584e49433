"""Cache-opportunity analysis: where prompt caching would save money, and where it is wasted (docs/cache.md)."""
