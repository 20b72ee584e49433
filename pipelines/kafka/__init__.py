"""Usage events from a Kafka topic into the same usage_events / rejected_events tables as the JSONL source."""
