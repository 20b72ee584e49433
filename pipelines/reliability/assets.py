"""Dagster side of rate-limit health: the ``rate_limit_health`` asset, its job and hourly schedule.

The Slack sensor for breaches is meant to share the budget alerts' delivery; it reads
``pipelines.reliability.health.current_breaches``.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from pipelines.metadata import markdown_table
from pipelines.reliability.health import (
    UNTIL_THE_END,
    HealthLines,
    HealthRow,
    LimitUsage,
    breaches_between,
    health_between,
    limit_usage_between,
    models_without_limit_group,
    refresh_rate_limit_health,
)
from pipelines.storage.clickhouse import ClickHouseResource

TOP = 10
MODELS_CHECK = "models_have_a_rate_limit_group"


class RateLimitHealthConfig(Config):
    lookback_hours: int = Field(default=48, ge=1, description="Hours recomputed, ending at the latest event's hour.")
    max_rate_limited_share: float = Field(default=HealthLines.max_rate_limited_share, ge=0, le=1,
                                          description="A 429 share above this is a breach.")
    min_requests: int = Field(default=HealthLines.min_requests, ge=1,
                              description="Hours with fewer calls never breach on the 429 share.")
    min_headroom: float = Field(default=HealthLines.min_headroom, ge=0, le=1,
                                description="Request or token headroom (remaining / limit) below this is a breach.")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def health_table(rows: list[HealthRow]) -> str:
    return markdown_table(
        ["hour (UTC)", "model", "api key", "calls", "429 rate", "min request headroom", "min token headroom",
         "p50 / p90 / p99 ms", "errors"],
        [(f"{r.hour:%Y-%m-%d %H:00}", r.model, r.api_key_id or "(console)", f"{r.requests:,}",
          _share(r.rate_limited_share), _share(r.requests_headroom_min), _share(r.tokens_headroom_min),
          f"{_ms(r.latency_p50_ms)} / {_ms(r.latency_p90_ms)} / {_ms(r.latency_p99_ms)}",
          ", ".join(f"{kind} {count}" for kind, count in sorted(r.error_types.items())) or "–")
         for r in rows],
    )


def limit_usage_table(rows: list[LimitUsage]) -> str:
    return markdown_table(
        ["hour (UTC)", "workspace / api key", "model group", "limiter", "limit", "peak per minute", "share"],
        [(f"{u.hour:%Y-%m-%d %H:00}", u.label, u.group_name or u.group_id, u.limit_type,
          f"{u.limit_value:,}{' (inherited)' if u.inherited else ''}",
          f"{u.peak_per_minute:,} at {u.peak_minute:%H:%M}", _share(u.share)) for u in rows],
    )


@asset(
    group_name="reliability",
    kinds={"clickhouse"},
    deps=[AssetKey("usage_events"), AssetKey("admin_rate_limits")],
    check_specs=[AssetCheckSpec(MODELS_CHECK, asset="rate_limit_health",
                                description="Every model of the window's usage events is in a configured "
                                "rate-limit model group, so its usage is measured against a limit.")],
    description="Rate-limit health per hour, model and API key from usage events (table rate_limit_health_hourly): "
    "429 rate, least request / token headroom seen in the anthropic-ratelimit-* headers (remaining / limit), "
    "p50/p90/p99 latency of successful calls and the error-type mix; and usage against the configured limits "
    "(table configured_limit_usage_hourly): per hour, workspace and API key and model group, the busiest minute's "
    "requests, input and output tokens against the workspace's limit from admin_rate_limits. Recomputes the last "
    "lookback_hours (default 48) up to the latest event. Breaches (429 rate or headroom past a configurable line): "
    "pipelines.reliability.health.current_breaches (docs/emitter.md).",
)
def rate_limit_health(
    context: AssetExecutionContext, config: RateLimitHealthConfig, clickhouse: ClickHouseResource
) -> MaterializeResult:
    refresh = refresh_rate_limit_health(clickhouse, config.lookback_hours)
    if refresh.window_start is None:
        context.log.info("no usage events: rate-limit health has nothing to compute")
        return MaterializeResult(metadata={"window": "no usage events", "cells": 0},
                                 check_results=[_models_check([])])
    lines = HealthLines(config.max_rate_limited_share, config.min_requests, config.min_headroom)
    worst = health_between(clickhouse, refresh.window_start, UNTIL_THE_END, limit=TOP)
    breaches = breaches_between(clickhouse, refresh.window_start, UNTIL_THE_END, lines)
    context.log.info("rate-limit health from %s: %d cells, %d calls, %d rate-limited, %d breaches",
                     f"{refresh.window_start:%Y-%m-%d %H:00}", refresh.cells, refresh.requests,
                     refresh.rate_limited, len(breaches))
    return MaterializeResult(metadata={
        "window_start": f"{refresh.window_start:%Y-%m-%d %H:00} UTC",
        "cells": refresh.cells,
        "requests": refresh.requests,
        "rate_limited": refresh.rate_limited,
        "rate_limited_share": _share(refresh.rate_limited / refresh.requests if refresh.requests else None),
        "breaches_in_window": len(breaches),
        "worst_cells": MetadataValue.md(health_table(worst)),
        "configured_limit_cells": refresh.limit_cells,
        "configured_limit_headroom": MetadataValue.md(limit_usage_table(
            limit_usage_between(clickhouse, refresh.window_start, UNTIL_THE_END, limit=TOP))),
    }, check_results=[_models_check(models_without_limit_group(clickhouse, refresh.window_start))])


def _models_check(unmapped: list[tuple[str, int]]) -> AssetCheckResult:
    """Warns about models no configured model group lists (passes while no limits were collected)."""
    return AssetCheckResult(
        check_name=MODELS_CHECK, passed=not unmapped, severity=AssetCheckSeverity.WARN,
        metadata={"models_without_group": len(unmapped), "calls_without_group": sum(c for _, c in unmapped),
                  "models": MetadataValue.md(markdown_table(["model", "calls"], unmapped[:TOP]))})
