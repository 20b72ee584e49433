"""The ``model_prices`` asset: the bundled effective-dated price table plus LEDGER_CONFIG overrides."""

from collections.abc import Sequence

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.pricing.config import PriceOverride, PricingConfig
from pipelines.pricing.list_prices import PER_MILLION, TOKEN_TYPES, price_table, tier_rows
from pipelines.storage.clickhouse import ClickHouseResource

PRICE_COLUMNS = ["model", "context_window", "token_type", "effective_from", "usd_per_unit", "origin"]


def price_rows(overrides: Sequence[PriceOverride] = ()) -> list[list[object]]:
    """One row per (model, context window, token type, date); config overrides win on the same key."""
    rows: dict[tuple, list[object]] = {}
    sources = [(p, "bundled") for p in price_table()]
    sources += [(p.to_price(), "config") for p in overrides]
    for price, origin in sources:
        for token_type in TOKEN_TYPES:
            key = (price.model, price.context_window, token_type, price.effective_from)
            rows[key] = [*key, price.usd_per_mtok[token_type] / PER_MILLION, origin]
        key = (price.model, price.context_window, "web_search", price.effective_from)
        rows[key] = [*key, price.web_search_per_request, origin]
    return [rows[k] for k in sorted(rows)]


def load_prices(ch: ClickHouseResource, overrides: Sequence[PriceOverride] = ()) -> list[list[object]]:
    """Replace the price tables with the bundled files and ``overrides`` (LEDGER_CONFIG ``prices:``)."""
    rows = price_rows(overrides)
    tiers = [list(row) for row in tier_rows()]
    with ch.connect() as client:
        client.command("TRUNCATE TABLE model_prices")
        client.insert("model_prices", rows, column_names=PRICE_COLUMNS)
        client.command("TRUNCATE TABLE service_tier_multipliers")
        client.insert("service_tier_multipliers", tiers, column_names=["service_tier", "effective_from", "multiplier"])
    return rows


@asset(group_name="pricing", kinds={"clickhouse"},
       description="Effective-dated list prices (pipelines/pricing/*.csv plus LEDGER_CONFIG `prices:`).")
def model_prices(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
                 ) -> MaterializeResult:
    rows = load_prices(clickhouse, ledger_config.section(PricingConfig).prices)
    standard = [r for r in rows if r[1] == "0-200k" and r[2] in ("input", "output")]
    table = {}
    for model, _, token_type, since, usd, _origin in standard:
        table.setdefault((model, since), {})[token_type] = usd * PER_MILLION
    context.log.info("loaded %d price rows for %d models", len(rows), len({r[0] for r in rows}))
    return MaterializeResult(metadata={
        "rows": len(rows),
        "models": len({r[0] for r in rows}),
        "config_overrides": sum(1 for r in rows if r[5] == "config"),
        "prices_usd_per_mtok": MetadataValue.md(markdown_table(
            ["model", "from", "input", "output"],
            [(m, d, p.get("input", "").normalize(), p.get("output", "").normalize())
             for (m, d), p in sorted(table.items())],
        )),
    })
