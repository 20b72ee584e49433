"""Where the time partitions (hourly usage, daily cost, monthly allocation) start.

``LEDGER_PARTITIONS_START=YYYY-MM-DD`` when set. Otherwise the earliest day with data in the database (usage
events, Admin API usage or cost), remembered in ``$LEDGER_HOME/partitions_start.json`` the first time it is
found, so the code location does not query the database every time it loads and the partitions do not move
when later data arrives. With no data yet: the first day of the previous month (UTC), the window ``make
demo`` and a first backfill fill; nothing is remembered then. An unreachable database also falls back to
that day (nothing can run then anyway; the first unit of work names the cause). Monthly partitions begin
with the month of the start day. To backfill history older than the data, set ``LEDGER_PARTITIONS_START``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from pipelines import settings
from pipelines.secrets import secret
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
log = logging.getLogger(__name__)

REMEMBERED = "partitions_start.json"


def first_of_previous_month(today: date) -> date:
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def earliest_data_day(ch: ClickHouseResource) -> date | None:
    return ch.query_rows(sql("earliest_data_day"))[0][0]


def resolve_start(ch: ClickHouseResource, home: Path, today: date) -> date:
    """The start day: setting, else remembered under ``home``, else the earliest data (then remembered), else
    the first day of the previous month."""
    configured = settings.partitions_start()
    if configured:
        return configured
    remembered = home / REMEMBERED
    database = ch.describe()
    if remembered.exists():
        saved = json.loads(remembered.read_text())
        if saved.get("database") == database:
            return date.fromisoformat(saved["start"])
    try:
        found = earliest_data_day(ch)
    except Exception as exc:  # unreachable, or no schema yet: every unit of work will report it clearly
        log.debug("partitions start: database not readable (%s); using the previous month", exc)
        found = None
    if found is None:
        return first_of_previous_month(today)
    _remember(remembered, database, found)
    return found


def _remember(path: Path, database: str, start: date) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps({"database": database, "start": start.isoformat()}) + "\n")
    temporary.replace(path)


@cache
def partitions_start() -> date:
    """The start day for this process (the partitions definitions are built once, at import)."""
    home = settings.ledger_home()
    ch = ClickHouseResource(dsn=secret("CLICKHOUSE_DSN"), ledger_home=str(home), migrate=False)
    return resolve_start(ch, home, datetime.now(UTC).date())
