"""``ledger``: the command line of claude-ledger (installed by ``pip install``; click, as Dagster uses).

Thin: each command parses its options and calls its domain (pipelines.reports, pipelines.metrics,
pipelines.allocation, pipelines.storage). Works on the local ClickHouse server of ``$LEDGER_HOME`` (started when none
runs) and on a server (``CLICKHOUSE_DSN``) alike. The commands that read are readers: they never change the schema,
and say so when it is behind the code (``ledger db migrate`` applies it). An error is one line on stderr (exit 1);
``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipelines import settings

if TYPE_CHECKING:  # imported when a command needs it: `ledger --help` starts fast
    from pipelines.storage.clickhouse import ClickHouseResource

EXIT_ERROR = 1


def _version() -> str:
    try:
        return metadata.version("claude-ledger")
    except metadata.PackageNotFoundError:
        return "dev"


# What clickhouse-connect wraps around the server's own message, and the server's trailing version.
_DRIVER_NOISE = re.compile(r"^Received ClickHouse exception, code: \d+, server response: | \(for url [^)]*\)$"
                           r"| \(version [\d.]+\)")


def one_line(error: BaseException) -> str:
    """An error as one line: the server's own message, its first line (ClickHouse's messages carry a stack trace
    after it), without the driver's wrapping."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return _DRIVER_NOISE.sub("", text.split(" Stack trace")[0])


class LedgerGroup(click.Group):
    """Turns any error into one line on stderr (the traceback too with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if ctx.meta.get("ledger.debug"):
                traceback.print_exc()
            click.echo(f"ledger: {one_line(exc)}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="ledger")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """claude-ledger: who spends what on Anthropic's Claude API.

    The pipeline itself runs in Dagster (`make dev`); these commands read its results (and `allocate` runs a
    month's allocation here, recorded in the same Dagster instance).
    """
    ctx.meta["ledger.debug"] = debug


def _clickhouse(migrate: bool = False) -> ClickHouseResource:
    from pipelines.storage.clickhouse import ClickHouseResource

    return ClickHouseResource.from_env(migrate=migrate)


def _month(value: str | None) -> date:
    from pipelines.allocation.months import month_start, parse_month, previous_month

    if not value:
        return previous_month(month_start(datetime.now(UTC).date()))
    try:
        return parse_month(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)", param_hint="--month") from None


MONTH_HELP = "The month, YYYY-MM (default: last month)."
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # a run started here logs only problems


@main.command("sql")
@click.argument("query", required=False)
@click.option("-f", "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the query from a file ('-' or no query: from stdin).")
@click.option("--format", "form", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--write", is_flag=True, help="Allow writes and DDL (off: the query runs with readonly = 1).")
@click.option("--exact", is_flag=True, help="In the table, every digit as stored (money is printed to the cent, "
              "shares to four places); CSV and JSON are always exact.")
def sql_command(query: str | None, path: Path | None, form: str, write: bool, exact: bool) -> None:
    """Run one SQL statement on the ledger's ClickHouse (the finance views: docs/finance.md)."""
    from pipelines.reports.console import render, run_query

    if path is not None:
        text = path.read_text()
    elif query and query != "-":
        text = query
    else:
        text = sys.stdin.read()
    text = text.strip().rstrip(";").strip()
    if not text:
        raise click.UsageError("no query given (an argument, --file, or stdin)")
    click.echo(render(run_query(_clickhouse(), text, write=write), form, exact), nl=False)  # type: ignore[arg-type]


def _instance():
    """The Dagster instance of DAGSTER_HOME (else of this checkout, as `make dev` uses), or None."""
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME") or (str(settings.PROJECT_ROOT)
                                              if (settings.PROJECT_ROOT / "dagster.yaml").exists() else "")
    if not home:
        return None
    previous = Path.cwd()
    os.chdir(home)  # dagster.yaml's storage paths are relative to it
    try:
        return DagsterInstance.from_config(home)
    finally:
        os.chdir(previous)


@main.command()
def status() -> None:
    """Freshness of each source, the last runs, failing checks and unpriced usage."""
    from pipelines.definitions import OPTIONAL_SOURCES, defs
    from pipelines.ledger_config import LedgerConfig
    from pipelines.reports.status import status_report
    from pipelines.sources import sources_off

    keys = sorted(defs.resolve_asset_graph().asset_check_keys, key=lambda k: k.to_user_string())
    off = sources_off(OPTIONAL_SOURCES, LedgerConfig.from_env())
    instance = _instance()
    try:
        click.echo(status_report(_clickhouse(), instance, keys, off=off), nl=False)
    finally:
        if instance is not None:
            instance.dispose()


@main.command()
@click.option("--month", "month_text", help=MONTH_HELP)
def export(month_text: str | None) -> None:
    """Write the month's chargeback CSV, Parquet and manifest, and its FOCUS 1.3 dataset (from the last
    chargeback run)."""
    from pipelines.allocation.config import AttributionConfig, FocusConfig
    from pipelines.allocation.discounts import analytics_of
    from pipelines.allocation.export import export_chargeback
    from pipelines.allocation.focus import export_focus
    from pipelines.ledger_config import LedgerConfig

    month = _month(month_text)
    ch = _clickhouse()
    _require_chargeback(ch, month)
    config = LedgerConfig.from_env()
    result = export_chargeback(ch, month, settings.export_dir(), config.section(AttributionConfig)
                               .shared_cost_policy.describe(), analytics_of(ch, config, month))
    account = config.section(FocusConfig).focus
    focus = export_focus(ch, month, settings.export_dir(), result.version,
                         (account.billing_account_id, account.billing_account_name))
    click.echo(f"{result.rows} lines, {result.allocated_cost_usd:,} USD"
               f"{' (provisional)' if result.provisional else ''}:\n{result.csv_path}\n{result.parquet_path}\n"
               f"{result.manifest_path}\nFOCUS 1.3, {focus.rows} rows:\n{focus.csv_path}\n{focus.parquet_path}\n"
               f"{focus.metadata_path}")


def _program(name: str) -> str:
    """How to type the command ``name`` installed beside this one: relative to the working directory when it is
    under it (``.venv/bin/ledger`` from the project root), else its whole path."""
    path = Path(sys.executable).parent / name
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _require_partition(month: date) -> None:
    """Refuse a month outside the monthly partitions, saying how to move their start."""
    from pipelines.allocation.assets import monthly_partitions

    keys = monthly_partitions.get_partition_keys()
    if month.isoformat() in keys:
        return
    if keys and month.isoformat() > keys[-1]:
        raise click.ClickException(f"{month:%Y-%m} has not begun: the last month partition is {keys[-1][:7]}")
    raise click.ClickException(
        f"{month:%Y-%m} is before the first month partition ({keys[0][:7] if keys else 'none'}): the partitions start "
        "at LEDGER_PARTITIONS_START, else at the earliest day with data. To allocate it, set "
        f"LEDGER_PARTITIONS_START={month.isoformat()} in the environment of `make dev` and of this command, and "
        "collect its Admin API usage and cost")


def _require_admin_usage(ch: ClickHouseResource, month: date) -> None:
    from pipelines.allocation.runs import has_admin_usage

    if not has_admin_usage(ch, month):
        raise click.ClickException(
            f"no Admin API usage is collected for {month:%Y-%m}: collect it first (the collect_admin_usage and "
            "collect_admin_cost jobs for its days, in the Dagster UI), then allocate it")


def _require_chargeback(ch: ClickHouseResource, month: date) -> None:
    from pipelines.reports.statement import month_has_chargeback

    if not month_has_chargeback(ch, month):
        _require_partition(month)
        _require_admin_usage(ch, month)
        raise click.ClickException(
            f"no chargeback for {month:%Y-%m} yet: run `{_program('ledger')} allocate --month {month:%Y-%m}` (or the "
            f"allocate_month job, partition {month.isoformat()}, in the Dagster UI)")


@main.command()
@click.option("--month", "month_text", help=MONTH_HELP)
def allocate(month_text: str | None) -> None:
    """Allocate a month, charge it back and write its exports: the allocate_month job, run here and recorded in
    the Dagster instance the UI shows."""
    from pipelines.allocation.runs import run_month
    from pipelines.definitions import defs

    month = _month(month_text)
    _require_partition(month)
    _require_admin_usage(_clickhouse(), month)
    instance = _instance()
    if instance is None:
        raise click.ClickException("no Dagster instance to record the run in: set DAGSTER_HOME")
    try:
        run = run_month(defs.resolve_job_def("allocate_month"), instance, month, QUIET)
    finally:
        instance.dispose()
    click.echo(f"allocated {run.summary()}")
    if run.allocated_usd is None:
        raise click.exceptions.Exit(EXIT_ERROR)


@main.command()
@click.option("--month", "month_text", help=MONTH_HELP)
@click.option("--cost-centres", is_flag=True, help="Also write one page per cost centre.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Directory (default: the exports').")
def report(month_text: str | None, cost_centres: bool, out: Path | None) -> None:
    """Write the month's statement: one self-contained HTML page with charts (opens offline)."""
    from pipelines.allocation.config import AttributionConfig
    from pipelines.ledger_config import LedgerConfig
    from pipelines.reports.assets import budgets_or_problem
    from pipelines.reports.config import StatementConfig
    from pipelines.reports.statement import write_statement

    month = _month(month_text)
    ch = _clickhouse()
    _require_chargeback(ch, month)
    config = LedgerConfig.from_env()
    budgets, problem = budgets_or_problem(config)
    pages = cost_centres or config.section(StatementConfig).statement.cost_centre_pages
    written = write_statement(ch, month, out or settings.export_dir(), config.section(AttributionConfig), budgets,
                              cost_centre_pages=pages, budget_problem=problem)
    if problem:
        click.echo(f"ledger: budgets not drawn: {problem}", err=True)
    click.echo(f"statement {month:%Y-%m} ({'final' if written.final else 'provisional'}, {written.charts} charts):")
    for path in (written.path, *written.pages):
        click.echo(str(path))


@main.group()
def db() -> None:
    """The database: the local ClickHouse server of $LEDGER_HOME (when CLICKHOUSE_DSN is unset), and the schema."""


def _local_server():
    from pipelines.storage.local_server import LocalServer

    if os.environ.get("CLICKHOUSE_DSN", "").strip():
        raise click.ClickException("CLICKHOUSE_DSN is set: the ledger uses that server, not a local one")
    return LocalServer(settings.ledger_home())


def _connection_lines(info) -> str:
    from pipelines.storage.local_server import FINANCE_USER

    return (f"  pipeline:                {info.dsn()}\n"
            f"  finance (read-only):     {info.dsn(user=FINANCE_USER)}\n"
            f"  clickhouse-client:       clickhouse-client --port {info.tcp_port} --user {FINANCE_USER} "
            "--database ledger\n")


@db.command("start")
@click.option("--http-port", type=int, help="HTTP port (default: LEDGER_CLICKHOUSE_HTTP_PORT, else the last one, "
              "else 8123 when free, else any free port).")
@click.option("--tcp-port", type=int, help="Native-protocol port (likewise, from 9000).")
def db_start(http_port: int | None, tcp_port: int | None) -> None:
    """Start the local ClickHouse server (if none runs) and apply the schema; print how to connect."""
    server = _local_server()
    already = server.running()
    info = already or server.start(http_port, tcp_port)
    applied = _clickhouse(migrate=True).apply_migrations()
    state = f"running (pid {info.pid})" if already else f"started (pid {info.pid})"
    click.echo(f"local ClickHouse server of {server.home}: {state}; {len(applied)} migrations applied now\n"
               f"{_connection_lines(info)}  it runs until `ledger db stop` (or `make clean`)")


@db.command("stop")
def db_stop() -> None:
    """Stop the local ClickHouse server."""
    server = _local_server()
    click.echo(f"local ClickHouse server of {server.home}: {'stopped' if server.stop() else 'not running'}")


@db.command("status")
def db_status() -> None:
    """Whether the local server runs, how to connect, and whether the schema is current (exit 1 if not)."""
    ch = _clickhouse()
    if ch.local:
        info = ch.local_server.running()
        if info is None:
            click.echo(f"local ClickHouse server of {ch.local_server.home}: not running (`ledger db start`)")
            raise SystemExit(EXIT_ERROR)
        click.echo(f"local ClickHouse server of {ch.local_server.home}: running (pid {info.pid})\n"
                   f"{_connection_lines(info)}", nl=False)
    else:
        click.echo(f"ClickHouse server: {ch.describe()}")
    status = ch.schema_status()
    click.echo(f"schema: the database {status.describe()}")
    if not status.current:
        raise SystemExit(EXIT_ERROR)


@db.command("migrate")
def db_migrate() -> None:
    """Apply the pending schema migrations (one process at a time, under a lock on the server)."""
    ch = _clickhouse(migrate=True)
    applied = ch.apply_migrations()
    click.echo(f"{ch.describe()}: {len(applied)} migrations applied" + "".join(f"\n  {name}" for name in applied))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: LEDGER_METRICS_PORT, else 9464).")
def metrics(host: str, port: int | None) -> None:
    """Serve Prometheus metrics on http://HOST:PORT/metrics (budgets, rate limits, freshness) until stopped."""
    from pipelines.budgets.model import BudgetsConfig
    from pipelines.ledger_config import LedgerConfig
    from pipelines.metrics.exporter import LedgerCollector, serve

    config = LedgerConfig.from_env()
    collector = LedgerCollector(_clickhouse(), lambda: config.section(BudgetsConfig).budgets)
    port = port or settings.metrics_port()
    server, _thread = serve(collector, host, port)
    click.echo(f"serving http://{host}:{server.server_port}/metrics (Ctrl-C stops)", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
