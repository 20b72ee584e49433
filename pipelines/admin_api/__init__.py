"""The Anthropic Admin API: collector (client, assets, schedules) and a bundled simulator."""
