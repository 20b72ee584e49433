"""Constants of usage event schema v1 that the emitter writes and the ingest reads (no imports: the
emitter must stay importable without pyarrow or orjson)."""

SCHEMA_VERSION = 1

# The anthropic-ratelimit-* response headers an event may copy, named without that prefix.
RATELIMIT_FIELDS = (
    "requests-limit",
    "requests-remaining",
    "tokens-limit",
    "tokens-remaining",
    "input-tokens-limit",
    "input-tokens-remaining",
    "output-tokens-limit",
    "output-tokens-remaining",
)
