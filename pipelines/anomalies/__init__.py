"""Anomalies and cache breaks: same-day "this is not normal" alerts from the spend and cache rollups."""
