"""The emitter around the real ``anthropic`` SDK, against a local Messages API: one schema-v1 event per call,
with the usage, headers, tags and fingerprint of that call; the caller's results and errors unchanged."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import anthropic
import pytest
from messages_api_server import RATELIMIT, Answer, FakeMessagesApi, rate_limited

from pipelines.emitter import JsonlFileSink, instrument

MODEL = "claude-haiku-4-5-20251001"
ASK = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
CACHED_USAGE = {
    "input_tokens": 12, "output_tokens": 40, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 1500,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 500},
    "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0}, "service_tier": "priority",
}
CACHED_USAGE_IN_EVENT = {
    "input_tokens": 12, "output_tokens": 40, "cache_read_input_tokens": 3000, "cache_creation_input_tokens": 1500,
    "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 500},
    "server_tool_use": {"web_search_requests": 2},
}
ZERO_USAGE = {
    "input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "server_tool_use": {"web_search_requests": 0},
}
TAGS = {"team": "search", "feature": "answer", "env": "prod", "api_key_id": "apikey_01Search"}


def events_in(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(directory.glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "events"


def sync_client(api: FakeMessagesApi, out: Path, **tags: Any) -> Any:
    return instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=api.url, max_retries=0),
                      sink=JsonlFileSink(out), **(tags or TAGS))


def async_client(api: FakeMessagesApi, out: Path) -> Any:
    return instrument(anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=api.url, max_retries=0),
                      sink=JsonlFileSink(out), **TAGS)


def test_a_call_writes_one_event_with_the_usage_object_as_returned(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(usage=CACHED_USAGE, request_id="req_01abc"))
    message = sync_client(messages_api, out).messages.create(**ASK)

    assert message.usage.cache_read_input_tokens == 3000  # the caller's result is the SDK's own
    [event] = events_in(out)
    assert event["usage"] == CACHED_USAGE_IN_EVENT
    assert (event["schema_version"], event["model"], event["service_tier"]) == (1, MODEL, "priority")
    assert (event["status"], event["error_type"], event["request_id"]) == (200, None, "req_01abc")
    assert {k: event[k] for k in TAGS} == TAGS
    assert event["ratelimit"] == RATELIMIT
    assert event["event_id"].startswith("evt_") and event["ts"].endswith("Z")
    assert isinstance(event["latency_ms"], int) and event["latency_ms"] >= 0


def test_each_call_gets_its_own_event(messages_api: FakeMessagesApi, out: Path):
    client = sync_client(messages_api, out)
    for _ in range(3):
        client.messages.create(**ASK)
    events = events_in(out)
    assert len(events) == 3
    assert len({e["event_id"] for e in events}) == 3


def test_a_429_is_raised_to_the_caller_and_recorded_with_zero_usage_and_the_headers(
        messages_api: FakeMessagesApi, out: Path):
    messages_api.script(rate_limited(tokens_remaining=1200))
    with pytest.raises(anthropic.RateLimitError):
        sync_client(messages_api, out).messages.create(**ASK)
    [event] = events_in(out)
    assert (event["status"], event["error_type"], event["request_id"]) == (429, "rate_limit_error", "req_429")
    assert event["usage"] == ZERO_USAGE
    assert event["model"] == MODEL  # the requested model: there is no response to name one
    assert event["ratelimit"]["requests-remaining"] == 0
    assert event["ratelimit"]["tokens-remaining"] == 1200
    assert event["ratelimit"]["requests-limit"] == 4000


def test_per_call_tags_override_the_wrap_time_tags_and_are_not_sent(messages_api: FakeMessagesApi, out: Path):
    client = sync_client(messages_api, out)
    client.messages.create(**ASK, ledger_tags={"user": "u_42", "feature": "rerank"})
    [event] = events_in(out)
    assert (event["team"], event["feature"], event["user"]) == ("search", "rerank", "u_42")
    assert "ledger_tags" not in messages_api.requests[0]


def test_the_prompt_prefix_is_a_hash_and_size_of_system_and_tools_never_the_text(
        messages_api: FakeMessagesApi, out: Path):
    system = [{"type": "text", "text": "You are a careful librarian. " * 40, "cache_control": {"type": "ephemeral"}}]
    tools = [{"name": "lookup", "description": "Find a book", "input_schema": {"type": "object"}}]
    sync_client(messages_api, out).messages.create(**ASK, system=system, tools=tools)

    canonical = json.dumps({"system": [{"text": "You are a careful librarian. " * 40, "type": "text"}],
                            "tools": tools}, sort_keys=True, separators=(",", ":"))
    [event] = events_in(out)
    assert event["prompt_prefix_hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert event["prompt_prefix_tokens"] == -(-len(canonical) // 4)
    assert "librarian" not in (out / next(out.iterdir()).name).read_text()


def test_a_request_without_system_or_tools_has_no_prefix(messages_api: FakeMessagesApi, out: Path):
    sync_client(messages_api, out).messages.create(**ASK)
    [event] = events_in(out)
    assert (event["prompt_prefix_hash"], event["prompt_prefix_tokens"]) == (None, 0)


def test_a_stream_from_create_is_recorded_with_the_usage_of_the_final_message(
        messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(
        usage=CACHED_USAGE,
        start_usage={**CACHED_USAGE, "input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 0},
        delta_usage={"output_tokens": 40, "input_tokens": 12, "cache_read_input_tokens": 3000},
    ))
    stream = sync_client(messages_api, out).messages.create(**ASK, stream=True)
    kinds = [event.type for event in stream]

    assert kinds == ["message_start", "content_block_start", "content_block_delta", "content_block_delta",
                     "content_block_stop", "message_delta", "message_stop"]
    [event] = events_in(out)
    assert event["usage"] == CACHED_USAGE_IN_EVENT
    assert (event["status"], event["error_type"], event["service_tier"]) == (200, None, "priority")
    assert event["ratelimit"] == RATELIMIT


def test_messages_stream_is_recorded_once_with_the_final_usage(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(usage={"input_tokens": 20, "output_tokens": 77}))
    with sync_client(messages_api, out).messages.stream(**ASK) as stream:
        text = stream.get_final_text()
        final = stream.get_final_message()

    assert text == "Hello there"
    assert final.usage.output_tokens == 77
    [event] = events_in(out)
    assert event["usage"]["input_tokens"] == 20
    assert event["usage"]["output_tokens"] == 77
    assert event["error_type"] is None


def test_a_stream_closed_before_its_end_is_recorded_as_incomplete(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(usage={"input_tokens": 20, "output_tokens": 77}))
    with sync_client(messages_api, out).messages.stream(**ASK) as stream:
        next(iter(stream))  # message_start only

    [event] = events_in(out)
    assert event["error_type"] == "incomplete_stream"
    assert event["usage"]["input_tokens"] == 20
    assert event["usage"]["output_tokens"] == 1  # as far as it was read


def test_the_async_client_records_create_create_stream_and_stream(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(usage=CACHED_USAGE), Answer(usage={"input_tokens": 7, "output_tokens": 8}),
                        Answer(usage={"input_tokens": 9, "output_tokens": 10}), rate_limited())
    client = async_client(messages_api, out)

    async def calls() -> None:
        await client.messages.create(**ASK)
        async for _ in await client.messages.create(**ASK, stream=True):
            pass
        async with client.messages.stream(**ASK) as stream:
            assert await stream.get_final_text() == "Hello there"
        with pytest.raises(anthropic.RateLimitError):
            await client.messages.create(**ASK)

    asyncio.run(calls())
    events = events_in(out)
    assert [e["usage"] for e in events[:3]] == [
        CACHED_USAGE_IN_EVENT,
        {"input_tokens": 7, "output_tokens": 8, "cache_read_input_tokens": None, "cache_creation_input_tokens": None,
         "cache_creation": None, "server_tool_use": None},
        {"input_tokens": 9, "output_tokens": 10, "cache_read_input_tokens": None, "cache_creation_input_tokens": None,
         "cache_creation": None, "server_tool_use": None},
    ]
    assert (events[3]["status"], events[3]["error_type"], events[3]["usage"]) == (429, "rate_limit_error", ZERO_USAGE)
    assert len(events) == 4


class BrokenSink:
    def write(self, line: bytes) -> None:
        raise OSError(28, "No space left on device")


def test_a_failing_sink_never_breaks_the_call_and_is_counted(messages_api: FakeMessagesApi, caplog):
    client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=messages_api.url, max_retries=0),
                        sink=BrokenSink(), team="search")
    with caplog.at_level(logging.WARNING, logger="pipelines.emitter"):
        message = client.messages.create(**ASK)
        client.messages.create(**ASK)
    assert message.content[0].text == "Hello there"
    assert (client.ledger_emitter.emitted, client.ledger_emitter.failed) == (0, 2)
    assert "usage event not written" in caplog.text
    assert "sk-ant-test" not in caplog.text


def test_other_client_attributes_pass_through_unrecorded(messages_api: FakeMessagesApi, out: Path):
    client = sync_client(messages_api, out)
    assert client.base_url == anthropic.Anthropic(api_key="x", base_url=messages_api.url).base_url
    assert client.with_options(timeout=5).messages.create(**ASK).usage.output_tokens == 5
    assert len(events_in(out)) == 1  # with_options keeps the instrumentation


def test_a_call_that_never_reached_the_api_is_recorded_as_a_connection_error(out: Path):
    api = FakeMessagesApi()
    url = api.url
    api.close()  # nothing listens there any more
    client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=url, max_retries=0),
                        sink=JsonlFileSink(out), **TAGS)
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(**ASK)
    [event] = events_in(out)
    assert (event["status"], event["error_type"], event["usage"], event["ratelimit"]) == (
        None, "api_connection_error", ZERO_USAGE, None)


def test_a_stream_dropped_unread_is_still_recorded_once(messages_api: FakeMessagesApi, out: Path):
    stream = sync_client(messages_api, out).messages.create(**ASK, stream=True)
    del stream
    [event] = events_in(out)
    assert (event["status"], event["error_type"]) == (200, "incomplete_stream")


def test_malformed_per_call_tags_never_fail_the_call(messages_api: FakeMessagesApi, out: Path):
    message = sync_client(messages_api, out).messages.create(**ASK, ledger_tags=["not", "a", "mapping"])
    assert message.usage.output_tokens == 5
    [event] = events_in(out)
    assert event["team"] == "search"


def test_an_error_in_the_middle_of_a_stream_is_raised_and_recorded(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(stream_error="overloaded_error"))
    with pytest.raises(anthropic.APIStatusError), \
            sync_client(messages_api, out).messages.stream(**ASK) as stream:
        stream.until_done()
    [event] = events_in(out)
    assert (event["status"], event["error_type"], event["usage"]) == (200, "overloaded_error", ZERO_USAGE)


def test_a_429_opening_messages_stream_is_recorded(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(rate_limited())
    with pytest.raises(anthropic.RateLimitError), sync_client(messages_api, out).messages.stream(**ASK):
        pass
    [event] = events_in(out)
    assert (event["status"], event["error_type"], event["ratelimit"]["requests-remaining"]) == (
        429, "rate_limit_error", 0)


def test_fast_mode_and_the_inference_geo_of_the_response_are_recorded(messages_api: FakeMessagesApi, out: Path):
    messages_api.script(Answer(usage={"input_tokens": 10, "output_tokens": 5, "service_tier": "standard",
                                      "inference_geo": "us", "speed": "fast"}))
    sync_client(messages_api, out).messages.create(**ASK)
    [event] = events_in(out)
    assert (event["service_tier"], event["speed"], event["inference_geo"]) == ("standard", "fast", "us")


def test_without_them_in_the_response_the_requested_speed_and_geo_are_recorded(
        messages_api: FakeMessagesApi, out: Path):
    client = sync_client(messages_api, out)
    client.messages.create(**ASK, speed="fast", inference_geo="us")
    client.messages.create(**ASK)
    first, second = events_in(out)
    assert (messages_api.requests[0]["speed"], messages_api.requests[0]["inference_geo"]) == ("fast", "us")
    assert (first["speed"], first["inference_geo"]) == ("fast", "us")
    assert (second["speed"], second["inference_geo"]) == ("standard", None)
