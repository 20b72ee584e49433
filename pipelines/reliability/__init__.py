"""Reliability of the organisation's Claude traffic as the usage events see it: rate-limit health."""
