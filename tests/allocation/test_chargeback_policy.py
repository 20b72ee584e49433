"""Specification of chargeback: the shared-cost policies and rounding to the cent."""

from __future__ import annotations

from decimal import Decimal

from allocation_data import config

from pipelines.allocation.chargeback import Line, chargeback_lines_for
from pipelines.allocation.rounding import round_to_cents, split_integer

SONNET = "claude-sonnet-4-5-20250929"


def line(team: str, feature: str, cost: str, input_tokens: int = 0, provisional: bool = False) -> Line:
    return Line(team, feature, "prod" if feature else "", SONNET, (input_tokens, 0, 0, 0, 0, 0),
                Decimal(cost), Decimal(cost), provisional)


SHOWBACK = [
    line("data", "doc-summarise", "3.00", 1000),
    line("search", "query-rewrite", "6.00", 2000),
    line("unattributed", "", "1.50", 300),
]


def summary(policy: object, lines: list[Line] = SHOWBACK) -> list[tuple]:
    return [(c.cost_center, c.line.team, c.line.feature, c.line.tokens[0], c.allocated_cost_usd, c.share)
            for c in chargeback_lines_for(lines, config(shared_cost_policy=policy), month_closed=True)]


def test_policy_none_keeps_the_unattributed_residual_as_its_own_line():
    assert summary("none") == [
        ("", "unattributed", "", 300, Decimal("1.50"), Decimal("0.142857")),
        ("CC-100 Search", "search", "query-rewrite", 2000, Decimal("6.00"), Decimal("0.571429")),
        ("CC-500 Data", "data", "doc-summarise", 1000, Decimal("3.00"), Decimal("0.285714")),
    ]


def test_policy_assign_gives_the_residual_to_one_team():
    assert summary({"assign": "platform"}) == [
        ("CC-100 Search", "search", "query-rewrite", 2000, Decimal("6.00"), Decimal("0.571429")),
        ("CC-500 Data", "data", "doc-summarise", 1000, Decimal("3.00"), Decimal("0.285714")),
        ("CC-500 Data", "platform", "(shared cost)", 300, Decimal("1.50"), Decimal("0.142857")),
    ]


def test_policy_proportional_spreads_the_residual_by_each_teams_allocated_share():
    # search has 6.00 of 9.00 attributed (2/3), data 3.00 (1/3): 1.00 + 0.50 of the 1.50, 200 + 100 tokens.
    assert summary("proportional") == [
        ("CC-100 Search", "search", "(shared cost)", 200, Decimal("1.00"), Decimal("0.095238")),
        ("CC-100 Search", "search", "query-rewrite", 2000, Decimal("6.00"), Decimal("0.571429")),
        ("CC-500 Data", "data", "(shared cost)", 100, Decimal("0.50"), Decimal("0.047619")),
        ("CC-500 Data", "data", "doc-summarise", 1000, Decimal("3.00"), Decimal("0.285714")),
    ]


def test_proportional_rounding_still_sums_to_the_month_total_to_the_cent():
    lines = [line("data", "a", "1.00"), line("research", "b", "1.00"), line("search", "c", "1.00"),
             line("unattributed", "", "0.01", 1)]
    result = summary("proportional", lines)
    assert sum(amount for *_, amount, _share in result) == Decimal("3.01")
    # 0.01 / 3 each: data, first by name, gets the extra 1e-12 USD unit, hence the larger remainder and
    # the cent; the one token goes the same way. Lines are listed by cost centre.
    assert [(team, tokens, amount) for _, team, feature, tokens, amount, _ in result
            if feature == "(shared cost)"] == [
        ("search", 0, Decimal("0.00")), ("research", 0, Decimal("0.00")), ("data", 1, Decimal("0.01"))]


def test_lines_are_rounded_to_cents_that_sum_to_the_rounded_total():
    amounts = [Decimal("0.333333333334"), Decimal("0.333333333333"), Decimal("0.333333333333")]
    assert round_to_cents(amounts) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]
    assert round_to_cents([Decimal("0.004"), Decimal("0.004"), Decimal("0.004")]) == [
        Decimal("0.01"), Decimal("0.00"), Decimal("0.00")]


def test_integer_split_gives_leftover_units_to_the_largest_remainders():
    assert split_integer(100, [80, 40]) == [67, 33]
    assert split_integer(10, [1, 1, 1]) == [4, 3, 3]
    assert split_integer(7, [0, 5]) == [0, 7]


def test_an_open_month_is_provisional_on_every_line():
    result = chargeback_lines_for([line("data", "a", "1.00")], config(), month_closed=False)
    assert [c.line.provisional for c in result] == [True]
