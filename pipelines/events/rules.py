"""The one rule set for usage events (docs/events.md): a small table of fields, types and rules, and the
ClickHouse SQL generated from it.

Every path that loads events runs this SQL inside ClickHouse: file ingest (``file(…, 'LineAsString')``
into ``usage_events_lines``), the pipeline's Kafka consumer (raw messages into the same table) and the
ClickHouse Kafka engine (``sql/cluster/usage_events_kafka_views.sql``). The checked-in SQL files are this
module's output; ``tests/events/test_event_rules.py`` checks that they still are. After changing the table
below, run ``python -m pipelines.events.rules`` to rewrite the file query and the cluster file, and add a
migration with ``python -m pipelines.events.rules --migration NNNN`` (an applied migration is never edited).

How one line is checked, in one pass:

- one typed ``JSONExtract(line, 'Tuple(…)')`` parses it (a line that is not JSON gives all NULLs);
- typed extraction coerces ("12"→12, 2.5→2, true→1, 5→'5'), so a cheap RE2 ``match()`` flags every line
  whose raw text could hide a value of the wrong type, and a line whose event_id did not come out (not
  JSON, not an object, or no event_id);
- only flagged lines get the exact checks, ``JSONType(line, path…)`` per field in the order below, each
  with its reason (``if`` is evaluated lazily, so clean lines never pay for them);
- the value rules then run on the typed values (exact for every line that passed the type checks).

Token semantics (DESIGN.md): ``cache_creation_input_tokens`` is the sum of the 5-minute and 1-hour
breakdown and is counted once; without a breakdown it is all 5-minute writes. A breakdown that does not
add up to the total is rejected rather than guessed at.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipelines.emitter.schema import RATELIMIT_FIELDS, SCHEMA_VERSION
from pipelines.storage.sql_files import SHARED_SQL_DIR

RAW_LIMIT = 4096  # bytes of a rejected line kept in rejected_events.raw
EMPTY_MESSAGE = "empty message (no event)"


class Kind(Enum):
    """A field's JSON type: (ClickHouse type it is extracted as, JSONType values allowed, reason suffix)."""

    INTEGER = ("Nullable(Int64)", ("Int64", "UInt64"), "must be an integer, got ")
    NUMBER = ("Nullable(Float64)", ("Int64", "UInt64", "Double"), "must be a number, got ")
    STRING = ("Nullable(String)", ("String",), "must be a string, got ")
    OBJECT = ("", ("Object",), "must be an object")


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    fields: tuple[Field, ...] = ()  # an object's own fields

    def walk(self, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Field]]:
        """(path, field) of this field and, depth first, of every field inside it."""
        path = (*prefix, self.name)
        return [(path, self), *[item for child in self.fields for item in child.walk(path)]]


def _integers(*names: str) -> tuple[Field, ...]:
    return tuple(Field(name, Kind.INTEGER) for name in names)


def _strings(*names: str) -> tuple[Field, ...]:
    return tuple(Field(name, Kind.STRING) for name in names)


TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")

# Schema version 1, in the order a line's fields are checked (the first problem names the reason).
EVENT: tuple[Field, ...] = (
    Field("schema_version", Kind.INTEGER),
    *_strings("event_id", "ts", "team", "feature", "env", "user", "workspace_id", "api_key_id", "model",
              "requested_model", "service_tier", "speed", "inference_geo"),
    Field("usage", Kind.OBJECT, (
        *_integers(*TOKEN_FIELDS),
        Field("cache_creation", Kind.OBJECT, _integers("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")),
        Field("server_tool_use", Kind.OBJECT, _integers("web_search_requests")),
    )),
    Field("latency_ms", Kind.NUMBER),
    Field("status", Kind.INTEGER),
    *_strings("error_type", "request_id", "prompt_prefix_hash"),
    Field("prompt_prefix_tokens", Kind.INTEGER),
    Field("ratelimit", Kind.OBJECT, _integers(*RATELIMIT_FIELDS)),
    *_strings("guard_action", "guard_budget"),  # what the call-time budget guard did (migration 0130)
)

FIELDS: list[tuple[tuple[str, ...], Field]] = [item for field in EVENT for item in field.walk()]


def alias(path: tuple[str, ...]) -> str:
    """The SQL name of a field's typed value: ``{usage.input_tokens}`` in the tables below."""
    return "f_" + "_".join(path).replace("-", "_")


# RFC 3339 as the rules accept it: date, 'T' or ' ', hour[:minute[:second[.fraction of up to 3 digits]]],
# and a UTC offset ('Z' or ±hh[[:]mm]); pyarrow's ISO 8601 parser accepted exactly this before.
TS_PATTERN = (r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3])(:[0-5]\d(:[0-5]\d(\.\d{1,3})?)?)?"
              r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$")

# Value rules, checked in order after the types: (condition on the typed values, reason). ``{a.b}`` is the
# typed value of field a.b (NULL when absent); ``ts_is_rfc3339`` says ts matches TS_PATTERN, ``ts_value`` is ts
# parsed to UTC (NULL when it does not parse: a day the month does not have, or a year outside 1900..2299).
RULES: tuple[tuple[str, str], ...] = (
    (f"ifNull({{schema_version}}, {SCHEMA_VERSION}) != {SCHEMA_VERSION}", "unsupported schema_version"),
    ("ifNull({event_id}, '') = ''", "missing required field event_id"),
    ("{ts} IS NULL", "missing required field ts"),
    ("ifNull({model}, '') = ''", "missing required field model"),
    *[(f"{{usage.{name}}} < 0", f"usage.{name} is negative") for name in TOKEN_FIELDS],
    *[(f"{{usage.{name}}} < 0", f"usage.{name} is negative") for name in (
        "cache_creation.ephemeral_5m_input_tokens", "cache_creation.ephemeral_1h_input_tokens",
        "server_tool_use.web_search_requests")],
    ("has_breakdown AND {usage.cache_creation_input_tokens} IS NOT NULL AND ifNull({usage.cache_creation."
     "ephemeral_5m_input_tokens}, 0) + ifNull({usage.cache_creation.ephemeral_1h_input_tokens}, 0) != "
     "{usage.cache_creation_input_tokens}",
     "usage.cache_creation breakdown (5m + 1h) does not sum to cache_creation_input_tokens"),
    ("{prompt_prefix_tokens} < 0", "prompt_prefix_tokens is negative"),
    ("{latency_ms} < 0 OR {latency_ms} > 4294967295", "latency_ms is out of range"),
    ("{status} < 0 OR {status} > 999", "status is not an HTTP status code"),
    ("NOT ts_is_rfc3339 OR (ts_value IS NULL AND toInt32OrZero(substring({ts}, 1, 4)) BETWEEN 1900 AND 2299)",
     "ts is not an RFC 3339 timestamp with a UTC offset"),
    ("ts_value IS NULL OR ts_value < toDateTime64('2000-01-01 00:00:00', 3, 'UTC') OR "
     "ts_value >= toDateTime64('2100-01-01 00:00:00', 3, 'UTC')", "ts is outside 2000-01-01 .. 2100-01-01"),
)

# usage_events columns from the typed values (only rows that passed every rule are stored).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "ifNull({event_id}, '')"),
    ("ts", "ifNull(ts_value, toDateTime64(0, 3, 'UTC'))"),
    ("schema_version", f"toUInt8(ifNull({{schema_version}}, {SCHEMA_VERSION}) % 256)"),
    *[(name, f"ifNull({{{name}}}, '')") for name in ("team", "feature", "env", "user", "workspace_id", "api_key_id",
                                                    "model", "requested_model")],
    ("service_tier", "ifNull({service_tier}, 'standard')"),
    ("speed", "ifNull({speed}, 'standard')"),
    ("inference_geo", "ifNull({inference_geo}, '')"),
    *[(name, f"toUInt64(greatest(ifNull({{usage.{name}}}, 0), 0))") for name in TOKEN_FIELDS[:3]],
    ("cache_write_5m_tokens", "toUInt64(greatest(if(has_breakdown, ifNull({usage.cache_creation.ephemeral_5m_input_"
     "tokens}, 0), ifNull({usage.cache_creation_input_tokens}, 0)), 0))"),
    ("cache_write_1h_tokens", "toUInt64(greatest(ifNull({usage.cache_creation.ephemeral_1h_input_tokens}, 0), 0))"),
    ("web_search_requests", "toUInt64(greatest(ifNull({usage.server_tool_use.web_search_requests}, 0), 0))"),
    # JSON numbers round half to even, as Float64 round() does
    ("latency_ms", "CAST(if({latency_ms} BETWEEN 0 AND 4294967295, round({latency_ms}), NULL), 'Nullable(UInt32)')"),
    ("status", "CAST(if({status} BETWEEN 0 AND 999, {status}, NULL), 'Nullable(UInt16)')"),
    ("error_type", "ifNull({error_type}, '')"),
    ("request_id", "ifNull({request_id}, '')"),
    ("prompt_prefix_hash", "ifNull({prompt_prefix_hash}, '')"),
    ("prompt_prefix_tokens", "toUInt64(greatest(ifNull({prompt_prefix_tokens}, 0), 0))"),
    ("guard_action", "ifNull({guard_action}, '')"),
    ("guard_budget", "ifNull({guard_budget}, '')"),
    # the ratelimit headers that were present and not negative
    ("ratelimit", "CAST(mapFilter((k, v) -> v >= 0, map(" + ", ".join(
        f"'{name}', ifNull({{ratelimit.{name}}}, -1)" for name in RATELIMIT_FIELDS
    ) + ")), 'Map(LowCardinality(String), UInt64)')"),
    ("source", "if(source_type = 'kafka', concat('kafka:', origin, '/', toString(partition)), origin)"),
    ("source_position", "position"),
)

# usage_events_lines: one raw line (a file line or a Kafka message) and where it came from. The rules
# read these columns; ``batch`` names the unit of work that wrote it, for its tally.
LINE_COLUMNS = (
    ("batch", "String"),
    ("source_type", "LowCardinality(String)"),  # 'file' or 'kafka'
    ("origin", "String"),  # the file's path, or the topic
    ("partition", "Int32"),  # -1 for files
    ("position", "UInt64"),  # 1-based line number, or the message's offset
    ("line", "String"),
)

# usage_events_checked (Null engine): every column of usage_events but ingested_at, and what routes the row.
USAGE_EVENT_TYPES = {
    "event_id": "String", "ts": "DateTime64(3, 'UTC')", "schema_version": "UInt8",
    **{name: "LowCardinality(String)" for name in ("team", "feature", "env", "workspace_id", "api_key_id", "model",
                                                    "requested_model", "service_tier", "speed", "inference_geo",
                                                    "error_type", "guard_action", "guard_budget")},
    "user": "String", "request_id": "String", "prompt_prefix_hash": "String",
    **{name: "UInt64" for name in (*TOKEN_FIELDS[:3], "cache_write_5m_tokens", "cache_write_1h_tokens",
                                    "web_search_requests", "prompt_prefix_tokens", "source_position")},
    "latency_ms": "Nullable(UInt32)", "status": "Nullable(UInt16)",
    "ratelimit": "Map(LowCardinality(String), UInt64)", "source": "String",
}
ROUTE_COLUMNS = (
    ("batch", "String"),
    ("source_type", "LowCardinality(String)"),
    ("origin", "String"),  # rejected_events.source: the path or the topic
    ("partition", "Int32"),
    ("skip", "UInt8"),  # a blank line of a file: carries no event and is not a reject
    ("reason", "String"),  # '' for an event
    ("raw", "String"),  # the rejected line, decoded leniently and truncated
)


def _render(template: str) -> str:
    """``{a.b}`` placeholders to the aliases of typed values."""
    def field(match: re.Match[str]) -> str:
        path = tuple(match.group(1).split("."))
        if path not in dict(FIELDS):
            raise KeyError(f"rule names unknown field {match.group(1)}")
        return alias(path)
    return re.sub(r"\{([a-z0-9_.-]+)\}", field, template)


def _quote(name: str) -> str:
    return f"`{name}`" if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) else name


def tuple_type(fields: tuple[Field, ...] = EVENT) -> str:
    """The ClickHouse type one ``JSONExtract`` parses a line into."""
    parts = [f"{_quote(f.name)} {tuple_type(f.fields) if f.kind is Kind.OBJECT else f.kind.value[0]}" for f in fields]
    return f"Tuple({', '.join(parts)})"


def _names(kind: Kind) -> str:
    return "|".join(re.escape(path[-1]) for path, field in FIELDS if field.kind is kind)


def prefilter_pattern() -> str:
    """RE2: a line whose raw text could hide a value typed JSONExtract would coerce (or that is no object).

    After a key of the field's kind, what may follow without a flag: an integer for integer fields, a number
    for number fields, a string for strings, an object for objects; ``null`` (starts with n) for all.
    A key's name may also occur elsewhere in a line (inside a string, or in an unknown object): that only
    flags a clean line for the exact checks, which is safe."""
    rules = [
        r"^\s*[^{\s]",  # not an object
        rf'"({_names(Kind.INTEGER)})"\s*:\s*([^-0-9n\s]|-?[0-9]+[.eE]|-?[0-9]{{19}})',  # not a 64-bit integer
        rf'"({_names(Kind.NUMBER)})"\s*:\s*[^-0-9n\s]',
        rf'"({_names(Kind.STRING)})"\s*:\s*[^"n\s]',
        rf'"({_names(Kind.OBJECT)})"\s*:\s*[^{{n\s]',
    ]
    return "|".join(f"({rule})" for rule in rules)


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _path_args(path: tuple[str, ...]) -> str:
    return ", ".join(_sql_string(part) for part in path)


def _type_checks() -> str:
    """The exact checks of flagged lines, in order: UTF-8, JSON, an object, then each field's JSON type."""
    names = ("map('Array', 'list', 'String', 'str', 'Int64', 'int', 'UInt64', 'int', 'Double', 'float', "
             "'Bool', 'bool', 'Null', 'NoneType')")
    checks = [
        ("NOT isValidUTF8(line)", "'line is not valid UTF-8'"),
        ("NOT isValidJSON(line)", "'not valid JSON'"),
        ("JSONType(line) != 'Object'", f"concat('not a JSON object (a ', {names}[toString(JSONType(line))], ')')"),
    ]
    for path, field in FIELDS:
        name = ".".join(path)
        args = _path_args(path)
        allowed = ", ".join(_sql_string(t) for t in (*field.kind.value[1], "Null"))
        wrong = f"toString(JSONType(line, {args})) NOT IN ({allowed})"
        if field.kind is Kind.OBJECT:
            checks.append((wrong, _sql_string(f"{name} {field.kind.value[2]}")))
            continue
        got = f"substringUTF8(JSONExtractRaw(line, {args}), 1, 40)"
        checks.append((wrong, f"concat({_sql_string(f'{name} {field.kind.value[2]}')}, {got})"))
        if field.kind is Kind.INTEGER:  # a JSON integer above 2^63 - 1 (JSON gives it as UInt64)
            checks.append((f"toString(JSONType(line, {args})) = 'UInt64'",
                           f"concat({_sql_string(f'{name} is out of range: ')}, JSONExtractRaw(line, {args}))"))
    body = ",\n            ".join(f"{condition}, {reason}" for condition, reason in checks)
    return f"multiIf(\n            {body},\n            '')"


def rules_select(source: str) -> str:
    """The rule set as one SELECT over ``source`` (a table or subquery with the LINE_COLUMNS), giving the
    columns of usage_events_checked."""
    element_of: dict[tuple[str, ...], str] = {}
    for path, _ in FIELDS:
        parent = element_of.get(path[:-1], "e")
        element_of[path] = f"tupleElement({parent}, {_sql_string(path[-1])})"
    values = ",\n    ".join(f"{element_of[path]} AS {alias(path)}" for path, _ in FIELDS)
    reasons = ",\n        ".join(f"{_render(condition)}, {_sql_string(reason)}" for condition, reason in RULES)
    columns = ",\n    ".join(f"{_render(expression)} AS {name}" for name, expression in COLUMNS)
    return f"""WITH
    JSONExtract(line, {_sql_string(tuple_type())}) AS e,
    {values},
    {_render("{usage.cache_creation.ephemeral_5m_input_tokens} IS NOT NULL OR "
             "{usage.cache_creation.ephemeral_1h_input_tokens} IS NOT NULL")} AS has_breakdown,
    match({alias(("ts",))}, {_sql_string(TS_PATTERN)}) AS ts_is_rfc3339,
    parseDateTime64BestEffortOrNull({alias(("ts",))}, 3, 'UTC') AS ts_value,
    NOT match(line, '[^ \\t\\n\\r\\v\\f]') AS blank,
    {alias(("event_id",))} IS NULL OR match(line, {_sql_string(prefilter_pattern())}) AS flagged,
    multiIf(
        blank, {_sql_string(EMPTY_MESSAGE)},
        flagged AND ({_type_checks()} AS type_problem) != '', type_problem,
        {reasons},
        '') AS checked_reason
SELECT
    {columns},
    batch,
    source_type,
    origin,
    partition,
    blank AND source_type = 'file' AS skip,
    checked_reason AS reason,
    if(checked_reason != '', toValidUTF8(substring(line, 1, {RAW_LIMIT})), '') AS raw
FROM {source}"""


def _columns_ddl(columns: list[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in columns) + 4
    return ",\n".join(f"    {name:<{width}}{kind}" for name, kind in columns)


def checked_columns() -> list[tuple[str, str]]:
    return [(name, USAGE_EVENT_TYPES[name]) for name, _ in COLUMNS] + list(ROUTE_COLUMNS)


def _route_views(checked: str, load: str, reject: str) -> str:
    event_columns = ", ".join(name for name, _ in COLUMNS)
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {load} TO usage_events AS
SELECT {event_columns}, now64(3, 'UTC') AS ingested_at
FROM {checked}
WHERE NOT skip AND reason = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {reject} TO rejected_events AS
SELECT source_type, origin AS source, partition, source_position AS position, reason, raw,
       now64(3, 'UTC') AS rejected_at
FROM {checked}
WHERE NOT skip AND reason != '';
"""


RULE_VIEWS = ("usage_events_lines_check", "usage_events_checked_load", "usage_events_checked_reject",
              "usage_events_checked_tally")
# A later rules migration replaces the views and the two Null tables (they store nothing, so a new column
# is a new table); ingest_batches stays. On a fresh database the drops do nothing.
_DROPS = "".join(f"DROP VIEW IF EXISTS {view};\n" for view in RULE_VIEWS) + "".join(
    f"DROP TABLE IF EXISTS {table};\n" for table in ("usage_events_checked", "usage_events_lines")) + "\n"

HEADER = "-- Generated by pipelines/events/rules.py from its table of fields and rules: do not edit by hand.\n"


def migration_sql() -> str:
    """The schema of the rule set in the pipeline's own database (a numbered migration)."""
    return f"""{HEADER}-- Event ingest in the engine: raw lines go into usage_events_lines (Null engine: nothing
-- is stored); usage_events_lines_check applies the rule set to each block and writes usage_events_checked (Null), which
-- two views fan out into usage_events (reason = '') and rejected_events (reason != ''), and a third tallies
-- per unit of work (batch) into ingest_batches, so the writer learns what it loaded without reading it back.
{_DROPS}CREATE TABLE IF NOT EXISTS usage_events_lines
(
{_columns_ddl(list(LINE_COLUMNS))}
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS usage_events_checked
(
{_columns_ddl(checked_columns())}
)
ENGINE = Null;

-- One row per batch, source and outcome ('' loaded, 'blank', or the reject reason) and inserted block.
CREATE TABLE IF NOT EXISTS ingest_batches
(
    batch           String,
    source          String,
    outcome         String,
    lines           UInt64,
    last_position   UInt64,
    first_ts        Nullable(DateTime64(3, 'UTC')),
    last_ts         Nullable(DateTime64(3, 'UTC')),
    recorded_at     DateTime DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (batch, source)
TTL recorded_at + INTERVAL 7 DAY;

{_route_views("usage_events_checked", "usage_events_checked_load", "usage_events_checked_reject")}
CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_checked_tally TO ingest_batches AS
SELECT batch, origin AS source, if(skip, 'blank', reason) AS outcome, count() AS lines,
       max(source_position) AS last_position,
       minIfOrNull(ts, reason = '' AND NOT skip) AS first_ts, maxIfOrNull(ts, reason = '' AND NOT skip) AS last_ts
FROM usage_events_checked
GROUP BY batch, source, outcome;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_lines_check TO usage_events_checked AS
{rules_select("usage_events_lines")};
"""


KAFKA_SOURCE = """(
    SELECT
        '' AS batch,
        'kafka' AS source_type,
        _topic AS origin,
        toInt32(_partition) AS partition,
        _offset AS position,
        if(_error != '', _raw_message, raw) AS line
    FROM usage_events_kafka_queue
)"""


def kafka_views_sql() -> str:
    """sql/cluster/usage_events_kafka_views.sql: the same rule set behind the ClickHouse Kafka engine."""
    return f"""{HEADER}-- Kafka engine → usage_events / rejected_events, with the pipeline's event rules
-- (docs/events.md).
-- usage_events_kafka_check applies the rule set to each block the engine reads from usage_events_kafka_queue
-- (usage_events_kafka_queue.sql) into usage_events_kafka_checked (Null engine: nothing is stored); two views
-- fan that out into usage_events and rejected_events. Same tables, same dedup: usage_events collapses
-- repeated event_ids, rejected_events repeated offsets. A message the engine could not read at all (its
-- 'stream' error mode) is checked as its raw text, so it gets the same reason as in the pipeline.
CREATE TABLE IF NOT EXISTS usage_events_kafka_checked
(
{_columns_ddl(checked_columns())}
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_kafka_check TO usage_events_kafka_checked AS
{rules_select(KAFKA_SOURCE)};

{_route_views("usage_events_kafka_checked", "usage_events_kafka_load", "usage_events_kafka_reject")}"""


# ClickHouse reads a landing-zone file itself. _row_number is the 0-based line number (exact under parallel
# parsing, unlike rowNumberInAllBlocks()); a resumed .jsonl.gz skips the lines it loaded before. pread, not
# chDB's default mmap, so memory does not grow with file size. Insert blocks of 131,072 rows / 64 MiB and the
# views run one after the other: measured on 1M events, peak RSS 0.88–0.98 GB against 1.12–1.16 GB with
# 262,144 rows / 128 MiB and parallel views, at the same speed (docs/performance.md); parts stay few.
FILE_SOURCE = """(
    SELECT
        {batch:String} AS batch,
        'file' AS source_type,
        {source:String} AS origin,
        toInt32(-1) AS partition,
        {line_offset:UInt64} + _row_number + 1 AS position,
        line
    FROM file({path:String}, 'LineAsString')
    WHERE _row_number >= {skip_lines:UInt64}
)"""
FILE_SETTINGS = {
    "storage_file_read_method": "'pread'",
    "max_insert_block_size": "131072",
    "min_insert_block_size_rows": "131072",
    "min_insert_block_size_bytes": str(64 << 20),
    "parallel_view_processing": "0",
}


def file_ingest_sql() -> str:
    """pipelines/events/sql/usage_events_from_file.sql: one file's lines through the rule set, in one INSERT."""
    settings = ",\n    ".join(f"{name} = {value}" for name, value in FILE_SETTINGS.items())
    return f"""{HEADER}-- One landing-zone file (or the new tail of one) through the event rules into
-- usage_events_checked, whose views write usage_events, rejected_events and the batch's tally (migration 0100).
INSERT INTO usage_events_checked
{rules_select(FILE_SOURCE)}
SETTINGS
    {settings}
"""


KAFKA_VIEWS = SHARED_SQL_DIR / "cluster" / "usage_events_kafka_views.sql"
FILE_QUERY = Path(__file__).resolve().parent / "sql" / "usage_events_from_file.sql"


def main(argv: list[str]) -> None:
    for path, text in ((KAFKA_VIEWS, kafka_views_sql()), (FILE_QUERY, file_ingest_sql())):
        path.write_text(text)
        print(f"wrote {path}")
    if argv[:1] == ["--migration"]:
        path = SHARED_SQL_DIR / "migrations" / f"{argv[1]}_event_rules.sql"
        path.write_text(migration_sql())
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
