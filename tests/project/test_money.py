"""Money as people read it (pipelines/money.py), the one formatter of every summary, alert, statement and
metadata table: dollars to the cent, half up, the minus sign before the dollar sign."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines.anomalies.messages import describe_contributor
from pipelines.anomalies.spend import Contributor
from pipelines.money import signed_usd, usd


@pytest.mark.parametrize(("amount", "shown"), [
    ("1234.565", "$1,234.57"),  # half up, thousands separated
    ("-0.005", "-$0.01"),  # the sign goes before the dollar sign
    ("-1234.5", "-$1,234.50"),
    ("-0.004", "$0.00"),  # rounds to nothing: no sign
    ("0", "$0.00"),
])
def test_an_amount_reads_in_dollars_to_the_cent(amount, shown):
    assert usd(Decimal(amount)) == shown


@pytest.mark.parametrize(("change", "shown"), [("22.8", "+$22.80"), ("-0.01", "-$0.01"), ("-0.001", "+$0.00")])
def test_a_change_carries_its_sign_before_the_dollar_sign(change, shown):
    assert signed_usd(Decimal(change)) == shown


def test_a_contributor_that_fell_reads_minus_dollars():
    fell = Contributor("feature", "query-rewrite", actual_usd=Decimal("1.20"), expected_usd=Decimal("1.21"))
    assert describe_contributor(fell) == "feature query-rewrite -$0.01 ($1.20 vs $1.21)"
