"""Rebuild a table whole, so that a reader never sees it empty or half written and two rebuilds at once never mix.

On a server nothing serialises the ledger's processes (a schedule's run, a sensor's run, the ``ledger`` command):
emptying a table and filling it again showed readers an empty table in between (the spend rollup found no price
while the price lookup was refilled), and two rebuilds at once both filled it (every price twice). Instead the new
content is written into a table of this rebuild's own, created like the table (``CREATE TABLE … AS``), and swapped
in with ``EXCHANGE TABLES``: one rename of the two tables' metadata, so a reader, or a crash of the writer or of the
server, finds the old table or the new one whole, and of two rebuilds at once each swaps in a whole table of its own.
The old content is dropped with the build table. One a killed rebuild left behind is dropped by a later rebuild of
the same table once it is a day old (a rebuild takes seconds).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from clickhouse_connect.driver.client import Client

from pipelines.storage.sql_files import Queries

ABANDONED_AFTER = timedelta(days=1)
_TABLE = re.compile(r"[a-z][a-z0-9_]*")

sql = Queries(__file__)


def _build_name(table: str, started: datetime) -> str:
    """The name of a build table of ``table`` started at ``started`` (such names sort by it), without its suffix."""
    return f"{table}_build_{started:%Y%m%d%H%M%S%f}"


@contextmanager
def rebuilt(client: Client, table: str) -> Iterator[str]:
    """The name of an empty table like ``table`` to fill in the ``with``; at its end that table becomes ``table``."""
    if not _TABLE.fullmatch(table):
        raise ValueError(f"not a table of the ledger's: {table!r}")
    started = datetime.now(UTC)
    build = f"{_build_name(table, started)}_{uuid.uuid4().hex[:8]}"
    # ClickHouse takes no query parameter after CREATE TABLE … AS: the table, a name of the code's own and checked
    # above, is written into the statement.
    client.command(f"CREATE TABLE {{build:Identifier}} AS {table}", parameters={"build": build})
    try:
        yield build
        client.command("EXCHANGE TABLES {table:Identifier} AND {build:Identifier}",
                       parameters={"table": table, "build": build})
    finally:  # after the exchange the build table holds the old content; after an error, the unfinished one
        client.command("DROP TABLE IF EXISTS {build:Identifier}", parameters={"build": build})
    abandoned = client.query(sql("build_tables_started_before"), parameters={
        "prefix": f"{table}_build_", "before": _build_name(table, started - ABANDONED_AFTER)}).result_rows
    for (name,) in abandoned:
        client.command("DROP TABLE IF EXISTS {name:Identifier}", parameters={"name": name})
