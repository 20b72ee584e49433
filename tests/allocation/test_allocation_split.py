"""Specification of how Admin API quantities are split to teams by events, cell by cell."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from allocation_data import HOUR, OCTOBER, SONNET, admin_usage, config, showback, usage_event

from pipelines.allocation.allocate import allocate_month


def quantities(ch, workspace: str = "ws1") -> list[tuple]:
    return [(token_type, team, feature, basis, quantity)
            for token_type, team, feature, basis, quantity, *_ in showback(ch, workspace)]


def test_events_that_under_count_keep_their_tokens_and_the_key_owner_gets_the_rest(priced):
    admin_usage(priced, input=1000)
    usage_event(priced, "e1", "search", "query-rewrite", input=600)
    usage_event(priced, "e2", "data", "doc-summarise", input=300)
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced) == [
        ("input", "data", "doc-summarise", "events", 300),
        ("input", "search", "", "owner", 100),  # key_search is owned by search
        ("input", "search", "query-rewrite", "events", 600),
    ]


def test_events_that_over_count_are_scaled_down_to_the_authority_with_integer_tokens(priced):
    admin_usage(priced, output=100)
    usage_event(priced, "e1", "search", "query-rewrite", output=80)
    usage_event(priced, "e2", "data", "doc-summarise", output=40)
    allocate_month(priced, OCTOBER, config())
    # 100 x 80/120 = 66.67 and 100 x 40/120 = 33.33: the one token left goes to the larger remainder.
    assert quantities(priced) == [
        ("output", "data", "doc-summarise", "events", 33),
        ("output", "search", "query-rewrite", "events", 67),
    ]
    assert priced.query_rows("SELECT event_tokens, explained_tokens, overcount_tokens "
                             "FROM allocation_reconciliation_daily") == [(120, 100, 20)]



def test_events_are_reconciled_with_their_own_cell_when_cells_differ_only_by_geo_or_speed(priced):
    # One key, one hour: Sonnet 4.6 in the US and globally, Opus 4.6 fast and standard, each cell explained
    # exactly by one event. 110K + 220K + 55K + 165K = 550,000 tokens on either side, none over-counted.
    for event_id, model, dimensions, input, output in (
            ("e1", "claude-sonnet-4-6", {"geo": "us"}, 100_000, 10_000),
            ("e2", "claude-sonnet-4-6", {"geo": "global"}, 200_000, 20_000),
            ("e3", "claude-opus-4-6", {"geo": "global", "speed": "fast"}, 50_000, 5_000),
            ("e4", "claude-opus-4-6", {"geo": "global", "speed": "standard"}, 150_000, 15_000)):
        admin_usage(priced, model=model, input=input, output=output, **dimensions)
        usage_event(priced, event_id, "search", "query-rewrite", model=model, input=input, output=output,
                    **dimensions)
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows("SELECT authority_tokens, event_tokens, explained_tokens, overcount_tokens, "
                             "overcount_rate FROM finance_reconciliation_daily") == [
        (550_000, 550_000, 550_000, 0, 0.0)]

def test_equal_remainders_go_to_teams_in_name_order(priced):
    admin_usage(priced, input=10)
    for event_id, team in (("e1", "research"), ("e2", "data"), ("e3", "search")):
        usage_event(priced, event_id, team, "f", input=4)
    allocate_month(priced, OCTOBER, config())
    assert [(team, q) for _, team, _, _, q in quantities(priced)] == [("data", 4), ("research", 3), ("search", 3)]


def test_a_cell_without_events_goes_to_the_workspace_owner_when_the_key_has_none(priced):
    admin_usage(priced, workspace="ws_research", key="key_unowned", model=SONNET, input=500, output=50)
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced, "ws_research") == [("input", "research", "", "owner", 500),
                                                 ("output", "research", "", "owner", 50)]


def test_console_use_in_the_default_workspace_is_unattributed(priced):
    admin_usage(priced, workspace="", key="", model=SONNET, input=700)
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced, "") == [("input", "unattributed", "", "unattributed", 700)]


def test_events_only_share_tokens_with_events_of_the_same_cell(priced):
    admin_usage(priced, input=1000)
    usage_event(priced, "e1", "data", "doc-summarise", input=1000, model=SONNET)  # another model: another cell
    usage_event(priced, "e2", "data", "doc-summarise", input=1000, ts=HOUR + timedelta(hours=1))  # another hour
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced) == [("input", "search", "", "owner", 1000)]


def test_a_replayed_event_is_counted_once(priced):
    admin_usage(priced, input=1000)
    usage_event(priced, "e1", "data", "doc-summarise", input=400)
    usage_event(priced, "e1", "data", "doc-summarise", input=400)
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced) == [("input", "data", "doc-summarise", "events", 400),
                                  ("input", "search", "", "owner", 600)]


def test_an_event_over_200k_input_tokens_falls_in_the_long_context_cell(priced):
    admin_usage(priced, model=SONNET, context="200k-1M", input=150_000, cache_read=60_000)
    usage_event(priced, "e1", "data", "doc-summarise", model=SONNET, input=150_000, cache_read=60_000)
    allocate_month(priced, OCTOBER, config())
    assert quantities(priced) == [("cache_read", "data", "doc-summarise", "events", 60_000),
                                  ("input", "data", "doc-summarise", "events", 150_000)]


def test_rerunning_a_month_replaces_it_instead_of_adding_to_it(priced):
    admin_usage(priced, input=1000)
    allocate_month(priced, OCTOBER, config())
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows("SELECT sum(quantity), sum(allocated_cost_usd) FROM allocation_hourly") == [
        (1000, Decimal("0.001"))]


def test_cost_centres_come_from_the_teams_config(priced):
    admin_usage(priced, input=10)
    usage_event(priced, "e1", "data", "doc-summarise", input=5)
    usage_event(priced, "e2", "newcomers", "beta", input=5)
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows("SELECT team, cost_center FROM allocation_hourly ORDER BY team") == [
        ("data", "CC-500 Data"), ("newcomers", "")]


def test_a_month_only_allocates_its_own_hours(priced):
    admin_usage(priced, input=1000, hour=HOUR.replace(month=9))
    usage_event(priced, "e1", "data", "doc-summarise", input=10, ts=HOUR.replace(month=11))
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows("SELECT count() FROM allocation_hourly") == [(0,)]
