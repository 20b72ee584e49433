"""Pricing's assets: ``model_prices`` (the bundled price files plus LEDGER_CONFIG ``prices:``) and
``unit_prices`` (the price lookup every domain prices with: list prices x multipliers, and the rates the
cost report teaches for models missing from the list)."""

from collections.abc import Sequence
from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, AutomationCondition, MaterializeResult, MetadataValue, asset

from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.pricing.config import PriceOverride, PricingConfig
from pipelines.pricing.list_prices import PER_MILLION, TOKEN_TYPES, multiplier_table, price_table, service_price_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.rebuild import rebuilt
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

PRICE_COLUMNS = ["model", "effective_from", "prompt_tokens_above", "token_type", "usd_per_unit", "origin"]
MULTIPLIER_COLUMNS = ["dimension", "value", "model", "effective_from", "multiplier", "origin"]
SERVICE_COLUMNS = ["cost_type", "unit", "effective_from", "usd_per_unit", "free_units_per_month", "origin"]


def price_rows(overrides: Sequence[PriceOverride] = ()) -> list[list[object]]:
    """One row per (model, date, prompt band threshold, token type); config overrides win on the same key."""
    rows: dict[tuple, list[object]] = {}
    sources = [(p, "bundled") for p in price_table()]
    sources += [(p.to_price(), "config") for p in overrides]
    for price, origin in sources:
        for token_type in TOKEN_TYPES:
            key = (price.model, price.effective_from, price.prompt_tokens_above, token_type)
            rows[key] = [*key, price.usd_per_mtok[token_type] / PER_MILLION, origin]
    schedules = {(model, since) for model, since, _above, _type in rows}
    without_base = sorted(f"{model} from {since}" for model, since in schedules
                          if (model, since, 0, "input") not in rows)
    if without_base:
        raise ValueError(f"a price schedule needs a base row (prompt_tokens_above 0): {', '.join(without_base)} "
                         f"(pipelines/pricing/model_prices.csv or LEDGER_CONFIG prices:)")
    return [rows[k] for k in sorted(rows)]


def load_prices(ch: ClickHouseResource, overrides: Sequence[PriceOverride] = ()) -> list[list[object]]:
    """Replace the list-price tables with the bundled files and ``overrides`` (LEDGER_CONFIG ``prices:``), then
    rebuild the price lookup. Returns the model price rows."""
    rows = price_rows(overrides)
    multipliers = [[m.dimension, m.value, m.model, m.effective_from, m.multiplier, "bundled"]
                   for m in multiplier_table()]
    services = [[s.cost_type, s.unit, s.effective_from, s.usd_per_unit, s.free_units_per_month, "bundled"]
                for s in service_price_table()]
    with ch.connect() as client:
        for table, table_rows, columns in (("model_prices", rows, PRICE_COLUMNS),
                                           ("price_multipliers", multipliers, MULTIPLIER_COLUMNS),
                                           ("service_prices", services, SERVICE_COLUMNS)):
            with rebuilt(client, table) as build:
                client.insert(build, table_rows, column_names=columns)
        rebuild_unit_prices(ch)
    return rows


def rebuild_unit_prices(ch: ClickHouseResource) -> list[tuple]:
    """Relearn the cost report's rates and rebuild ``unit_prices`` from the list prices and them; returns
    (origin, rows, models, some models) per origin."""
    with ch.connect() as client:
        with rebuilt(client, "learned_unit_prices") as build:
            client.command(sql("learned_unit_prices_of_reports"),
                           parameters={"target": build, "computed_at": datetime.now(UTC)})
        with rebuilt(client, "unit_prices") as build:
            client.command(sql("unit_prices_of_list_prices"), parameters={"target": build})
            client.command(sql("unit_prices_of_learned_rates"), parameters={"target": build})
        return client.query(sql("unit_prices_summary")).result_rows


@asset(group_name="pricing", kinds={"clickhouse"},
       description="Effective-dated list prices: pipelines/pricing/model_prices.csv (per model family and prompt "
       "band), price_multipliers.csv (service tier, fast mode, inference geo), service_prices.csv (web search, "
       "code execution, session hours), plus LEDGER_CONFIG `prices:`. Old rows stay: history is never repriced.")
def model_prices(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
                 ) -> MaterializeResult:
    rows = load_prices(clickhouse, ledger_config.section(PricingConfig).prices)
    base = [r for r in rows if r[2] == 0 and r[3] in ("input", "output")]
    table: dict[tuple, dict[str, object]] = {}
    for model, since, _above, token_type, usd, _origin in base:
        table.setdefault((model, since), {})[token_type] = usd * PER_MILLION
    context.log.info("loaded %d price rows for %d models", len(rows), len({r[0] for r in rows}))
    return MaterializeResult(metadata={
        "rows": len(rows),
        "models": len({r[0] for r in rows}),
        "config_overrides": sum(1 for r in rows if r[5] == "config"),
        "prices_usd_per_mtok": MetadataValue.md(markdown_table(
            ["model", "from", "input", "output"],
            [(m, d, p.get("input", ""), p.get("output", "")) for (m, d), p in sorted(table.items())],
        )),
    })


@asset(
    group_name="pricing",
    kinds={"clickhouse"},
    deps=[AssetKey("model_prices"), AssetKey("admin_cost_daily"), AssetKey("admin_usage_hourly")],
    automation_condition=AutomationCondition.eager(),
    description="The price lookup every domain prices with (table unit_prices): per price cell (model family x "
    "prompt band x service tier x speed x inference geo) and token type, USD per unit from a date. List prices "
    "times their multipliers; for a model missing from the list, the rate the cost report taught (table "
    "learned_unit_prices: the report's amount over the Admin API's quantity, per day and cell).",
)
def unit_prices(context: AssetExecutionContext, clickhouse: ClickHouseResource) -> MaterializeResult:
    summary = rebuild_unit_prices(clickhouse)
    learned = next((models for origin, _rows, _n, models in summary if origin == "learned"), [])
    context.log.info("unit prices rebuilt: %s", ", ".join(f"{origin} {rows:,}" for origin, rows, *_ in summary))
    return MaterializeResult(metadata={
        "rows": sum(rows for _origin, rows, *_ in summary),
        "models_priced_from_cost_report_only": sorted(learned),
        "by_origin": MetadataValue.md(markdown_table(
            ["origin", "rows", "models"], [(origin, f"{rows:,}", models) for origin, rows, models, _ in summary])),
    })
