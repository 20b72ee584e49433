"""Dagster side of anomalies: the ``spend_anomalies`` and ``cache_breaks`` assets (tables of the same name, for
SQL users and the UI), computed from the spend and cache rollups as the anomaly_alerts sensor computes them."""

from datetime import datetime
from decimal import Decimal

from clickhouse_connect.driver.client import Client
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from pipelines.alerts.clock import Clock
from pipelines.anomalies.cache import WHAT, CacheBreak, find_cache_breaks
from pipelines.anomalies.config import AnomaliesConfig, AnomalyLines
from pipelines.anomalies.messages import describe_contributor, describe_scope, describe_window, shown_contributors
from pipelines.anomalies.spend import Incident, find_spend_anomalies, incidents
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.rebuild import rebuilt

SPEND_COLUMNS = ["day", "scope", "target", "window_kind", "window_start", "window_end", "actual_usd", "expected_usd",
                 "expected_low_usd", "expected_high_usd", "score", "baseline_weeks", "contributors", "top_cell",
                 "alert_key", "reported_as", "computed_at"]
CACHE_COLUMNS = ["day", "kind", "team", "feature", "actual_ratio", "expected_ratio", "tokens", "baseline_weeks",
                 "lost_usd", "models", "alert_key", "computed_at"]


def replace_table(client: Client, table: str, rows: list[list[object]], columns: list[str]) -> None:
    """Replace ``table`` with ``rows``, rebuilt whole and swapped in: a reader, a process killed at any moment, or a
    refresh running at the same time leaves ``table`` holding one refresh whole."""
    with rebuilt(client, table) as build:
        if rows:
            client.insert(build, rows, column_names=columns)


def lines_of(ledger_config: LedgerConfig) -> AnomalyLines:
    """The configured lines, or the defaults when LEDGER_CONFIG has no anomalies section."""
    return ledger_config.section(AnomaliesConfig).anomalies or AnomalyLines()


def spend_rows(found: list[Incident], now: datetime) -> list[list[object]]:
    rows = []
    for incident in found:
        for a in (incident.reported, *incident.covered):
            rows.append([a.day, a.scope, a.target, a.window, a.window_start, a.window_end, a.actual_usd,
                         a.expected_usd, a.low_usd, a.high_usd, a.score, a.baseline_weeks,
                         [(c.dimension, c.value, c.actual_usd, c.expected_usd) for c in a.contributors], a.top_cell,
                         a.key, incident.reported.key, now])
    return rows


def spend_table(found: list[Incident]) -> str:
    return markdown_table(
        ["day", "scope", "window", "spend", "expected", "score", "top contributors", "alerted as"],
        [(a.day, describe_scope(a.scope, a.target), describe_window(a), usd(a.actual_usd),
          f"{usd(a.low_usd)}-{usd(a.high_usd)}", f"{a.score:.1f}",
          "; ".join(describe_contributor(c) for c in shown_contributors(a)) or "-",
          "this scope" if a is incident.reported else describe_scope(incident.reported.scope, incident.reported.target))
         for incident in found for a in (incident.reported, *incident.covered)],
    )


@asset(
    group_name="anomalies",
    kinds={"clickhouse"},
    deps=[AssetKey("spend_hourly")],
    description="Spend anomalies per scope (org, workspace, team, feature, api key, model) and day, from the spend "
    "rollup: yesterday, today so far and the last hours against the same hours of the same weekday in the "
    "baseline weeks (median and MAD), with the expected range, the score and the contributors that moved; one "
    "incident per rising cell, alerted at its broadest scope (docs/anomalies.md).",
)
def spend_anomalies(context: AssetExecutionContext, clickhouse: ClickHouseResource, clock: Clock,
                    ledger_config: LedgerConfig) -> MaterializeResult:
    now = clock.now()
    with clickhouse.connect() as client:
        found = incidents(find_spend_anomalies(client, now, lines_of(ledger_config)))
        replace_table(client, "spend_anomalies", spend_rows(found, now), SPEND_COLUMNS)
    anomalies = sum(1 + len(i.covered) for i in found)
    context.log.info("%d spend anomalies in %d incidents at %s", anomalies, len(found), now)
    return MaterializeResult(metadata={
        "evaluated_at": f"{now:%Y-%m-%d %H:%M} UTC",
        "anomalies": anomalies,
        "incidents": len(found),
        "excess_usd": usd(sum((i.reported.increase_usd for i in found), Decimal(0))),
        "anomalies_table": MetadataValue.md(spend_table(found) if found else "no spend anomalies"),
    })


def cache_table(breaks: list[CacheBreak]) -> str:
    return markdown_table(
        ["day", "feature", "what", "that day", "usually", "lost that day", "models"],
        [(b.day, b.target, WHAT[b.kind], f"{b.actual_ratio:.1%}", f"{b.expected_ratio:.1%}", usd(b.lost_usd),
          ", ".join(f"{model} {usd(lost)}" for model, lost in b.models) or "-") for b in breaks],
    )


@asset(
    group_name="anomalies",
    kinds={"clickhouse"},
    deps=[AssetKey("cache_opportunities")],
    description="Cache breaks per feature and day, from the cache rollups (cache_feature_daily, cache_waste_daily): "
    "a cache-hit ratio that dropped sharply, or cache writes no longer read, against the same weekday in the "
    "baseline weeks, priced in dollars lost that day, with the models it was lost on (docs/anomalies.md).",
)
def cache_breaks(context: AssetExecutionContext, clickhouse: ClickHouseResource, clock: Clock,
                 ledger_config: LedgerConfig) -> MaterializeResult:
    now = clock.now()
    with clickhouse.connect() as client:
        breaks = find_cache_breaks(client, now, lines_of(ledger_config))
        replace_table(client, "cache_breaks", [
            [b.day, b.kind, b.team, b.feature, b.actual_ratio, b.expected_ratio, b.tokens, b.baseline_weeks, b.lost_usd,
             list(b.models), b.key, now] for b in breaks], CACHE_COLUMNS)
    context.log.info("%d cache breaks at %s", len(breaks), now)
    return MaterializeResult(metadata={
        "evaluated_at": f"{now:%Y-%m-%d %H:%M} UTC",
        "cache_breaks": len(breaks),
        "lost_usd": usd(sum((b.lost_usd for b in breaks), Decimal(0))),
        "breaks_table": MetadataValue.md(cache_table(breaks) if breaks else "no cache breaks"),
    })
