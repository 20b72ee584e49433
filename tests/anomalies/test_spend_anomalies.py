"""Spend anomalies from the spend rollup: the same hours of the same weekday as the baseline, the expected range,
the score, the contributors, and one incident per rising cell; quiet on steady and weekly-patterned traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from anomaly_traffic import Spike, emptied, hourly_spend, write_traffic

from pipelines.anomalies.config import AnomalyLines, SpendLines
from pipelines.anomalies.spend import find_spend_anomalies, incidents
from pipelines.storage.clickhouse import ClickHouseResource

NOW = datetime(2026, 11, 18, 14, tzinfo=UTC)  # a Wednesday, 14:00 UTC
HISTORY = datetime(2026, 10, 14, tzinfo=UTC)  # five weeks before: four whole baseline weeks for yesterday too
SPIKE = Spike("doc-summarise", NOW - timedelta(hours=5), NOW, 6.0)  # data / doc-summarise, six times, since 09:00



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    return emptied(module_ch)


def anomalies_at(ch: ClickHouseResource, now: datetime = NOW, lines: AnomalyLines | None = None):
    with ch.connect() as client:
        return find_spend_anomalies(client, now, lines or AnomalyLines())


def by_scope(found) -> dict[tuple[str, str], tuple[str, Decimal, Decimal]]:
    return {(a.scope, a.target): (a.window, a.actual_usd, a.expected_usd) for a in found}


def test_a_spiking_feature_is_an_anomaly_at_every_scope_it_moves(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    # Working hours cost 1.6 x each cell's rate: the organisation 1.6 x (2 + 3 + 2.5 + 1.5) = $14.40 an hour,
    # doc-summarise 1.6 x 1.5 = $2.40, six times that while it spikes. The last 3 hours (11:00-14:00):
    # doc-summarise $43.20 instead of $7.20 (+$36); the organisation 43.20 + 36 = $79.20 instead of $43.20;
    # Sonnet 4.5 (answer-synthesis, ticket-triage, doc-summarise) 1.6 x 7 x 3 + 36 = $69.60 instead of $33.60.
    assert by_scope(anomalies_at(ch)) == {
        ("org", ""): ("hours", Decimal("79.2"), Decimal("43.2")),
        ("model", "claude-sonnet-4-5"): ("hours", Decimal("69.6"), Decimal("33.6")),
        ("feature", "doc-summarise"): ("hours", Decimal("43.2"), Decimal("7.2")),
        ("api_key", "apikey_platform"): ("hours", Decimal("43.2"), Decimal("7.2")),
        ("team", "data"): ("hours", Decimal("43.2"), Decimal("7.2")),
        ("workspace", ""): ("hours", Decimal("43.2"), Decimal("7.2")),
    }


def test_an_anomaly_has_its_expected_range_score_and_what_moved(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    [org] = [a for a in anomalies_at(ch) if a.scope == "org"]
    # four identical Wednesdays: MAD 0, so the spread is the noise floor, 10 % of the $43.20 median = $4.32;
    # the range 43.20 -/+ 4 x 4.32 = $25.92 .. $60.48; the score (79.20 - 43.20) / 4.32 = 8.33. The whole day so
    # far is an anomaly too (score (175.20 - 115.20) / 11.52 = 5.2), less of one: the last hours are reported.
    assert (org.window_start, org.window_end) == (NOW - timedelta(hours=3), NOW)
    assert (org.low_usd, org.high_usd, round(org.score, 2), org.baseline_weeks) == (
        Decimal("25.92"), Decimal("60.48"), 8.33, 4)
    assert [(c.dimension, c.value, c.increase_usd) for c in org.contributors if c.increase_usd > 0] == [
        ("feature", "doc-summarise", Decimal(36)), ("api_key", "apikey_platform", Decimal(36)),
        ("model", "claude-sonnet-4-5", Decimal(36)), ("team", "data", Decimal(36)), ("workspace", "", Decimal(36)),
    ]
    assert org.top_cell == "data|doc-summarise||apikey_platform|claude-sonnet-4-5"


def test_the_anomalies_of_one_rising_cell_are_one_incident_reported_at_the_broadest_scope(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    [incident] = incidents(anomalies_at(ch))
    assert (incident.reported.scope, incident.reported.target) == ("org", "")
    assert sorted(a.scope for a in incident.covered) == ["api_key", "feature", "model", "team", "workspace"]
    assert incident.keys == ("anomaly:spend:2026-11-18:org:",
                             "anomaly:spend:2026-11-18:cell:data|doc-summarise||apikey_platform|claude-sonnet-4-5")


def test_two_cells_rising_apart_are_two_incidents(ch):
    second = Spike("ticket-triage", NOW - timedelta(hours=3), NOW, 5.0)
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE, second)), NOW)
    reported = sorted((i.reported.scope, i.reported.target, i.reported.top_cell) for i in incidents(anomalies_at(ch)))
    # doc-summarise +$36 over the last 3 hours, ticket-triage 1.6 x 2.5 x 3 x 4 = +$48: the organisation's top
    # cell is ticket-triage's; doc-summarise's rise is reported at its own broadest scope, its workspace
    # (default, which holds nothing else) on equal spend with its team, key and feature
    assert reported == [
        ("org", "", "support|ticket-triage|wrkspc_support|apikey_support|claude-sonnet-4-5"),
        ("workspace", "", "data|doc-summarise||apikey_platform|claude-sonnet-4-5"),
    ]


def test_a_spike_yesterday_is_found_in_yesterdays_whole_day(ch):
    yesterday = Spike("doc-summarise", datetime(2026, 11, 17, 9, tzinfo=UTC), datetime(2026, 11, 17, 17, tzinfo=UTC), 6)
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(yesterday,)), NOW)
    found = {(a.scope, a.target): a for a in anomalies_at(ch)}
    feature = found[("feature", "doc-summarise")]
    # 8 working hours at 5 x $2.40 more: +$96 on the usual Tuesday of 11 x 2.40 + 13 x 0.60 = $34.20
    assert (str(feature.day), feature.window, feature.actual_usd, feature.expected_usd) == (
        "2026-11-17", "day", Decimal("130.2"), Decimal("34.2"))


def test_a_scope_below_the_minimum_amount_stays_quiet(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    # with a $100 minimum, doc-summarise's scopes ($43.20 in the last 3 hours, 19.20 + 60 = $79.20 today) are
    # quiet; the organisation today (115.20 + 60 = $175.20) and Sonnet 4.5 (89.60 + 60 = $149.60) are not
    lines = AnomalyLines(spend=SpendLines(min_usd=Decimal(100)))
    assert {(a.scope, a.window, a.actual_usd) for a in anomalies_at(ch, lines=lines)} == {
        ("org", "day", Decimal("175.2")), ("model", "day", Decimal("149.6"))}


def test_only_the_watched_scopes_are_looked_at(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    lines = AnomalyLines(spend=SpendLines(scopes=("feature", "model")))
    assert sorted(a.scope for a in anomalies_at(ch, lines=lines)) == ["feature", "model"]


def test_without_enough_weeks_of_history_there_is_no_verdict(ch):
    two_weeks = NOW - timedelta(days=15)
    write_traffic(ch, hourly_spend(two_weeks, NOW, noise=0, spikes=(SPIKE,)), NOW)
    assert anomalies_at(ch) == []  # two baseline Wednesdays of the three required


def hourly_verdicts(ch: ClickHouseResource, days: int = 7) -> list[tuple[datetime, str, str]]:
    """Every hour of the last ``days`` days, as a tick at that hour would have seen it."""
    found = []
    with ch.connect() as client:
        for hour in range(24 * days):
            at = NOW - timedelta(hours=hour)
            found += [(at, a.scope, a.target) for a in find_spend_anomalies(client, at, AnomalyLines())]
    return found


def test_steady_traffic_raises_nothing_in_a_week_of_hourly_ticks(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0.15, seed=11), NOW)
    assert hourly_verdicts(ch) == []


def test_a_weekly_pattern_raises_nothing_in_a_week_of_hourly_ticks(ch):
    # weekends at a fifth of a weekday, working hours 4x the night: Monday morning is not a spike
    write_traffic(ch, hourly_spend(HISTORY, NOW, weekend=0.2, noise=0.15, seed=21), NOW)
    assert hourly_verdicts(ch) == []


def test_a_spike_in_noisy_weekly_traffic_is_found_with_its_feature_key_and_model(ch):
    write_traffic(ch, hourly_spend(HISTORY, NOW, weekend=0.2, noise=0.15, seed=31, spikes=(SPIKE,)), NOW)
    [incident] = incidents(anomalies_at(ch))
    reported = incident.reported
    assert [reported.top(d).value for d in ("feature", "api_key", "model")] == [
        "doc-summarise", "apikey_platform", "claude-sonnet-4-5"]
    assert reported.top_cell == "data|doc-summarise||apikey_platform|claude-sonnet-4-5"
