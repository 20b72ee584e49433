"""The call-time budget guard against a real redis-server and the local Messages API: estimates held before the
call, refusals that send nothing, downgrades to the next model, settlement to the real cost, released holds,
Redis down as configured. Money in the counters is micro-USD (1e-6 USD)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import anthropic
import pytest
from guard_helpers import (
    ASK,
    HAIKU,
    OPUS,
    SONNET,
    counters,
    events_in,
    frozen,
    guarded,
    guarded_client,
    key_of,
    now_utc,
    publish,
)
from messages_api_server import Answer, CountAnswer, FakeMessagesApi, rate_limited

from pipelines.emitter import BudgetExceeded, BudgetGuard, BudgetGuardUnavailable
from pipelines.emitter.guard_state import WANTED_KEY, expire_at, period_start
from pipelines.settings import PROJECT_ROOT

# ASK on Opus 4.6, estimated: 12 input tokens x $5/MTok + 1000 (max_tokens) x $25/MTok = 60 + 25000 micro-USD.
OPUS_ESTIMATE = 25_060
# The stand-in's default usage (10 input, 5 output) on Opus 4.6: 10 x 5 + 5 x 25 = 175 micro-USD.
OPUS_ACTUAL = 175


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "events"


@pytest.fixture
def now():
    return now_utc()


def guard_on(redis_server, now, **options) -> BudgetGuard:
    return BudgetGuard(redis_url=redis_server.url, clock=frozen(now), refresh_seconds=0, **options)


def test_a_call_within_budget_is_sent_and_its_hold_settles_to_the_real_cost(redis_server, messages_api, out, now):
    budget = guarded(amount_usd="0.10")
    redis = redis_server.client()
    publish(redis, now, budget)
    guard = guard_on(redis_server, now)

    message = guarded_client(messages_api.url, out, guard).messages.create(**ASK)

    assert message.model == OPUS and len(messages_api.requests) == 1
    hour = int(now.timestamp()) // 3600
    # The hold (25060) was replaced by the real cost, booked on the call's hour: base 0 + recent 175 + held 0.
    assert counters(redis, budget, now) == {"base": 0, "from": hour - 3, "recent": OPUS_ACTUAL, "held": 0,
                                            f"g:{hour}": OPUS_ACTUAL, "holds": 0}
    assert guard.standing("search-daily") == (Decimal("0.000175"), Decimal(0))
    assert (guard.stats.checked, guard.stats.settled, guard.stats.blocked) == (1, 1, 0)
    [event] = events_in(out)
    assert (event["model"], event["requested_model"], event["guard_action"], event["guard_budget"]) == (
        OPUS, OPUS, None, None)


def test_a_call_that_would_pass_a_block_budget_is_refused_and_nothing_is_sent(redis_server, messages_api, out, now):
    budget = guarded(amount_usd="0.03")
    redis = redis_server.client()
    publish(redis, now, budget, spent={"search-daily": 10_000})  # $0.01 spent: 10000 + 25060 > 30000
    guard = guard_on(redis_server, now)

    with pytest.raises(BudgetExceeded) as refused:
        guarded_client(messages_api.url, out, guard).messages.create(**ASK)

    assert str(refused.value) == (
        f"budget 'search-daily' (team search, {now:%Y-%m-%d}) would pass its limit: $0.01 of $0.03 spent or held, "
        "and this call to claude-opus-4-6 is estimated at $0.02506; no request was sent")
    assert (refused.value.budget_id, refused.value.spend_usd, refused.value.limit_usd, refused.value.estimate_usd) == (
        "search-daily", Decimal("0.01"), Decimal("0.03"), Decimal("0.02506"))
    assert messages_api.requests == [] and messages_api.count_requests == []
    assert counters(redis, budget, now)["held"] == 0
    [event] = events_in(out)
    assert (event["status"], event["error_type"], event["guard_action"], event["guard_budget"], event["model"]) == (
        None, "budget_exceeded", "block", "search-daily", OPUS)
    assert event["usage"]["input_tokens"] == event["usage"]["output_tokens"] == 0
    assert guard.stats.blocked == 1


def test_a_downgrade_budget_sends_the_call_on_the_next_model(redis_server, messages_api, out, now):
    # Opus: 25060 > 20000. Sonnet 4.6: 12 x 3 + 1000 x 15 = 15036, fits.
    budget = guarded(policy="downgrade", amount_usd="0.02", downgrade=[OPUS, SONNET, HAIKU])
    redis = redis_server.client()
    publish(redis, now, budget)
    guard = guard_on(redis_server, now)

    message = guarded_client(messages_api.url, out, guard).messages.create(**ASK)

    assert message.model == SONNET and messages_api.requests[0]["model"] == SONNET
    [event] = events_in(out)
    assert (event["model"], event["requested_model"], event["guard_action"], event["guard_budget"]) == (
        SONNET, OPUS, "downgrade", "search-daily")
    # Settled at Sonnet's prices: 10 x 3 + 5 x 15 = 105.
    assert counters(redis, budget, now)["recent"] == 105
    assert guard.stats.downgraded == 1


def test_a_downgrade_goes_down_the_list_until_a_model_fits(redis_server, messages_api, out, now):
    # Sonnet's 15036 > 10000 too; Haiku 4.5: 12 x 1 + 1000 x 5 = 5012 fits.
    budget = guarded(policy="downgrade", amount_usd="0.01", downgrade=[OPUS, SONNET, HAIKU])
    publish(redis_server.client(), now, budget)

    guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(**ASK)

    assert [r["model"] for r in messages_api.requests] == [HAIKU]


def test_a_downgrade_budget_with_no_cheaper_model_left_refuses(redis_server, messages_api, out, now):
    budget = guarded(policy="downgrade", amount_usd="0.004", downgrade=[OPUS, SONNET, HAIKU])  # Haiku: 5012 > 4000
    publish(redis_server.client(), now, budget)

    with pytest.raises(BudgetExceeded, match=re.escape("to claude-haiku-4-5 is estimated at $0.005012; no cheaper "
                                                       "model is left in its downgrade list; no request was sent")):
        guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(**ASK)
    assert messages_api.requests == []


def test_a_model_not_in_the_list_is_only_switched_to_a_cheaper_one(redis_server, messages_api, out, now):
    # Haiku requested, the list is [Opus, Sonnet]: both cost more than Haiku, so the call is refused instead.
    budget = guarded(policy="downgrade", amount_usd="0.004", downgrade=[OPUS, SONNET])
    publish(redis_server.client(), now, budget)

    with pytest.raises(BudgetExceeded):
        guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(**{**ASK, "model": HAIKU})
    assert messages_api.requests == []


def test_a_block_budget_refuses_a_model_without_a_published_price_and_asks_for_it(
        redis_server, messages_api, out, now):
    publish(redis_server.client(), now, guarded())

    with pytest.raises(BudgetExceeded, match=re.escape("budget 'search-daily' (team search, " + f"{now:%Y-%m-%d}"
                                                       ") cannot hold this call: claude-new-9 has no published "
                                                       "price ($0.00 of $0.10 spent or held); no request was sent")):
        guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(
            **{**ASK, "model": "claude-new-9"})
    assert redis_server.client().smembers(WANTED_KEY) == {b"claude-new-9"}
    assert messages_api.requests == []


def test_a_failed_call_releases_its_hold(redis_server, messages_api, out, now):
    budget = guarded()
    redis = redis_server.client()
    publish(redis, now, budget)
    guard = guard_on(redis_server, now)
    messages_api.script(rate_limited())

    with pytest.raises(anthropic.RateLimitError):
        guarded_client(messages_api.url, out, guard).messages.create(**ASK)

    assert {k: v for k, v in counters(redis, budget, now).items() if k in ("recent", "held", "holds")} == {
        "recent": 0, "held": 0, "holds": 0}
    assert (guard.stats.released, guard.stats.settled) == (1, 0)


def test_a_stream_settles_when_it_ends(redis_server, messages_api, out, now):
    budget = guarded()
    redis = redis_server.client()
    publish(redis, now, budget)
    messages_api.script(Answer(usage={"input_tokens": 20, "output_tokens": 8}))

    with guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.stream(**ASK) as stream:
        assert counters(redis, budget, now)["held"] == OPUS_ESTIMATE  # held while the stream is read
        stream.get_final_message()

    assert {k: v for k, v in counters(redis, budget, now).items() if k in ("recent", "held")} == {
        "recent": 20 * 5 + 8 * 25, "held": 0}


def test_count_tokens_gives_the_input_size_when_enabled(redis_server, messages_api, out, now):
    # 4000 counted tokens x $5 + 1000 x $25 = 20000 + 25000 = 45000 > 40000: refused without a Messages call.
    publish(redis_server.client(), now, guarded(amount_usd="0.04"))
    messages_api.script_count(CountAnswer(input_tokens=4000))

    with pytest.raises(BudgetExceeded, match=re.escape("estimated at $0.045;")):
        guarded_client(messages_api.url, out, guard_on(redis_server, now, count_tokens=True)).messages.create(**ASK)

    [counted] = messages_api.count_requests
    assert counted == {"model": OPUS, "messages": ASK["messages"]}  # no max_tokens: not a count_tokens parameter
    assert messages_api.requests == []


def test_a_failed_count_tokens_falls_back_to_the_local_estimate(redis_server, messages_api, out, now):
    publish(redis_server.client(), now, guarded(amount_usd="0.04"))
    messages_api.script_count(CountAnswer(status=500))
    guard = guard_on(redis_server, now, count_tokens=True)

    guarded_client(messages_api.url, out, guard).messages.create(**ASK)  # local estimate 25060 <= 40000

    assert (len(messages_api.requests), guard.stats.counted_locally) == (1, 1)


def test_redis_down_lets_a_fail_open_budget_call_through_and_counts_a_warning(redis_server, messages_api, out, now,
                                                                              caplog):
    publish(redis_server.client(), now, guarded())
    guard = guard_on(redis_server, now)
    client = guarded_client(messages_api.url, out, guard)
    client.messages.create(**ASK)
    redis_server.stop()

    client.messages.create(**ASK)

    assert len(messages_api.requests) == 2
    assert (guard.stats.redis_errors, guard.stats.blocked) == (1, 0)
    assert "counters unreachable" in caplog.text and "fail-open" in caplog.text
    assert "redis://" not in caplog.text  # the URL (a secret) is never logged


def test_redis_down_refuses_a_fail_closed_budget_call_and_sends_nothing(redis_server, messages_api, out, now):
    publish(redis_server.client(), now, guarded(on_redis_error="fail_closed"))
    guard = guard_on(redis_server, now)
    client = guarded_client(messages_api.url, out, guard)
    client.messages.create(**ASK)
    redis_server.stop()

    with pytest.raises(BudgetGuardUnavailable, match="budget 'search-daily' fails closed and the budget counters "
                                                     "are unreachable"):
        client.messages.create(**ASK)

    assert (len(messages_api.requests), guard.stats.failed_closed) == (1, 1)
    assert events_in(out)[-1]["error_type"] == "budget_guard_unavailable"


def test_a_guard_that_never_reached_redis_follows_its_own_setting(messages_api, out, now):
    unreachable = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    closed = BudgetGuard(redis_url=unreachable, on_redis_error="fail_closed", clock=frozen(now))
    with pytest.raises(BudgetGuardUnavailable, match="the guard fails closed"):
        guarded_client(messages_api.url, out, closed).messages.create(**ASK)
    opened = BudgetGuard(redis_url=unreachable, clock=frozen(now))
    guarded_client(messages_api.url, out, opened).messages.create(**ASK)
    assert (len(messages_api.requests), opened.stats.redis_errors) == (1, 1)


def test_budgets_that_do_not_cover_the_call_or_only_alert_leave_it_alone(redis_server, messages_api, out, now):
    other_team = guarded(id="support-daily", target="support", amount_usd="0.001")
    alert_only = guarded(id="search-alerts", policy="alert", amount_usd="0.001")
    staging_only = guarded(id="search-staging", env="staging", amount_usd="0.001")
    redis = redis_server.client()
    publish(redis, now, other_team, alert_only, staging_only)
    guard = guard_on(redis_server, now)

    guarded_client(messages_api.url, out, guard).messages.create(**ASK)

    assert (len(messages_api.requests), guard.stats.checked) == (1, 0)
    assert [(counters(redis, b, now)["recent"], counters(redis, b, now)["holds"])
            for b in (other_team, alert_only, staging_only)] == [(0, 0)] * 3


def test_a_call_is_held_against_every_budget_that_covers_it(redis_server, messages_api, out, now):
    team_day = guarded(id="search-daily", amount_usd="1")
    feature_month = guarded(id="answer-monthly", scope="feature", target="answer", period="month", amount_usd="1")
    key_day = guarded(id="key-daily", scope="api_key", target="apikey_01Search", amount_usd="1")
    redis = redis_server.client()
    publish(redis, now, team_day, feature_month, key_day)

    guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(**ASK)

    assert [counters(redis, b, now)["recent"] for b in (team_day, feature_month, key_day)] == [OPUS_ACTUAL] * 3


def test_a_period_s_keys_expire_an_hour_after_it_ends(redis_server, messages_api, out, now):
    budget = guarded(period="month")
    redis = redis_server.client()
    publish(redis, now, budget)
    guarded_client(messages_api.url, out, guard_on(redis_server, now)).messages.create(**ASK)

    expected = expire_at("month", period_start("month", now))  # start of next month + 3600 s
    assert redis.expiretime(key_of(budget, now)) == expected


HOLD_AND_DIE = """
import sys, anthropic
from pipelines.emitter import BudgetGuard, JsonlFileSink, instrument
guard = BudgetGuard(redis_url=sys.argv[2], hold_seconds=2)
client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=sys.argv[1], max_retries=0, timeout=120),
                    sink=JsonlFileSink(sys.argv[3]), team="search", guard=guard)
client.messages.create(model="claude-opus-4-6", max_tokens=1000, messages=[{"role": "user", "content": "hi"}])
"""


def test_the_hold_of_a_process_killed_mid_call_is_released_when_it_expires(redis_server, messages_api, tmp_path):
    now = now_utc()
    budget = guarded()
    redis = redis_server.client()
    publish(redis, now, budget)
    messages_api.script(Answer(delay_s=60))
    caller = subprocess.Popen([sys.executable, "-c", HOLD_AND_DIE, messages_api.url, redis_server.url,
                               str(tmp_path / "events")], cwd=PROJECT_ROOT)
    deadline = time.monotonic() + 60
    while not messages_api.requests:
        assert caller.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(caller.pid, signal.SIGKILL)
    caller.wait(timeout=30)
    assert counters(redis, budget, now)["held"] == OPUS_ESTIMATE  # the dead process's hold
    time.sleep(2.5)

    guard = BudgetGuard(redis_url=redis_server.url, refresh_seconds=0)
    guarded_client(messages_api.url, tmp_path / "events", guard).messages.create(**ASK)

    # Expired and dropped by the next reservation; only the new call's real cost remains.
    assert {k: v for k, v in counters(redis, budget, now).items() if k in ("recent", "held", "holds")} == {
        "recent": OPUS_ACTUAL, "held": 0, "holds": 0}


def test_an_api_error_before_any_budget_is_published_is_the_caller_s_own(redis_server, messages_api: FakeMessagesApi,
                                                                         out, now):
    guard = guard_on(redis_server, now)  # nothing published: nothing is guarded
    messages_api.script(rate_limited())
    with pytest.raises(anthropic.RateLimitError):
        guarded_client(messages_api.url, out, guard).messages.create(**ASK)
    assert guard.stats.checked == 0
