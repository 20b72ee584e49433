"""Specification of list pricing inside the allocation: token types, cache TTLs, batch, long context."""

from __future__ import annotations

from decimal import Decimal

from allocation_data import HAIKU, OCTOBER, OPUS_41, SONNET, admin_usage, config, showback

from pipelines.allocation.allocate import allocate_month

M = 1_000_000


def list_costs(ch, workspace: str = "ws1") -> dict[str, Decimal]:
    return {token_type: list_cost for token_type, _t, _f, _b, _q, list_cost, _a, _p in showback(ch, workspace)}


def test_cache_reads_are_priced_at_the_cache_read_price(priced):
    admin_usage(priced, model=SONNET, cache_read=M, input=M)
    allocate_month(priced, OCTOBER, config())
    assert list_costs(priced) == {"cache_read": Decimal("0.30"), "input": Decimal("3.00")}


def test_one_hour_cache_writes_cost_more_than_five_minute_writes(priced):
    admin_usage(priced, model=HAIKU, write_5m=M, write_1h=M)
    allocate_month(priced, OCTOBER, config())
    assert list_costs(priced) == {"cache_write_5m": Decimal("1.25"), "cache_write_1h": Decimal("2.00")}


def test_batch_halves_every_token_price_and_stacks_with_caching(priced):
    admin_usage(priced, model=OPUS_41, tier="batch", input=M, cache_read=M, write_1h=M, output=100_000)
    allocate_month(priced, OCTOBER, config())
    # Opus 4.1 list: input 15, 1h write 30, cache read 1.50, output 75 USD per million; batch x 0.5.
    assert list_costs(priced) == {"input": Decimal("7.50"), "cache_read": Decimal("0.75"),
                                  "cache_write_1h": Decimal("15.00"), "output": Decimal("3.75")}


def test_long_context_usage_is_priced_at_its_own_rate(priced):
    admin_usage(priced, model=SONNET, context="200k-1M", input=M, output=M)
    allocate_month(priced, OCTOBER, config())
    assert list_costs(priced) == {"input": Decimal("6.00"), "output": Decimal("22.50")}


def test_web_search_is_priced_per_request(priced):
    admin_usage(priced, model=HAIKU, web_search=3)
    allocate_month(priced, OCTOBER, config())
    assert list_costs(priced) == {"web_search": Decimal("0.03")}


def test_an_unknown_model_costs_nothing_at_list_price_instead_of_a_default(priced):
    admin_usage(priced, model="claude-mystery-9", input=M)
    allocate_month(priced, OCTOBER, config())
    assert list_costs(priced) == {"input": Decimal(0)}
