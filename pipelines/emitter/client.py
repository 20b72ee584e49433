"""``instrument(client)``: an ``anthropic.Anthropic`` / ``AsyncAnthropic`` whose ``messages.create`` (plain or
``stream=True``) and ``messages.stream`` write one usage event per call. Everything else passes through.

Headers come from the raw response (``messages.with_raw_response.create``, or the stream's ``response``);
streamed usage is accumulated from the raw events as the caller reads them (``message_start`` usage,
overwritten by the cumulative ``message_delta`` usage) and emitted at ``message_stop``. A stream the caller
closes early is emitted when it closes, with the usage seen so far and ``error_type = incomplete_stream``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from pipelines.emitter.fingerprint import is_given
from pipelines.emitter.guard import BudgetGuard, GuardRefusal, Plan
from pipelines.emitter.recorder import (
    INCOMPLETE_STREAM,
    Call,
    Emitter,
    Tags,
    billing_of,
    merge_delta_usage,
    usage_of,
)
from pipelines.emitter.sinks import default_sink

log = logging.getLogger(__name__)

TAGS_KWARG = "ledger_tags"  # per-call tags: messages.create(..., ledger_tags={"user": "u_42"}); never sent


def _api_error() -> type[BaseException]:
    import anthropic

    return anthropic.APIError


def instrument(client: Any, *, sink: Any = None, team: str | None = None, feature: str | None = None,
               env: str | None = None, user: str | None = None, workspace_id: str | None = None,
               api_key_id: str | None = None, guard: BudgetGuard | None = None) -> Any:
    """Wrap ``client`` so each Messages API call writes a usage event to ``sink`` (default: ``default_sink()``).

    ``api_key_id`` / ``workspace_id`` are the Admin API's ids of the key the client uses (``apikey_01…``,
    never the key itself); without them rate-limit health and allocation cannot tell keys apart.
    ``guard``: a ``BudgetGuard`` that holds each call against the block / downgrade budgets covering its tags
    (``BudgetExceeded`` when one refuses it; no request is sent).
    """
    import anthropic

    emitter = Emitter(sink if sink is not None else default_sink(),
                      Tags(team, feature, env, user, workspace_id, api_key_id))
    emitter.guard = guard
    if isinstance(client, InstrumentedClient):
        client = client.unwrapped
    if isinstance(client, anthropic.AsyncAnthropic):
        return InstrumentedClient(client, emitter, AsyncInstrumentedMessages)
    return InstrumentedClient(client, emitter, InstrumentedMessages)


def _prepared(kwargs: dict[str, Any], emitter: Emitter) -> Call:
    """Pop the per-call tags, make one-shot iterables of system/tools reusable, and open the call."""
    call_tags = kwargs.pop(TAGS_KWARG, None)
    for name in ("system", "tools", "messages"):
        value = kwargs.get(name)
        if is_given(value) and not isinstance(value, str | list | tuple | dict) and hasattr(value, "__iter__"):
            kwargs[name] = list(value)
    return emitter.start(kwargs, call_tags)


def _plan(call: Call, kwargs: dict[str, Any], guard: BudgetGuard | None) -> Plan | None:
    """The guard's plan for the call (None: not guarded); a refusal is recorded on the call and raised."""
    if guard is None:
        return None
    try:
        return guard.plan(kwargs, call.tags)
    except GuardRefusal as exc:
        call.refuse(exc)
        raise
    except Exception as exc:  # a defect of the guard must not stop the caller: the call goes unguarded
        guard.stats.add("internal_errors")
        log.warning("budget guard failed (%s: %s); call let through unguarded", type(exc).__name__, exc)
        return None


def _counted_locally(guard: BudgetGuard, exc: Exception) -> None:
    guard.stats.add("counted_locally")
    log.warning("count_tokens failed (%s); the budget guard estimates the input locally", type(exc).__name__)


def _admit(call: Call, kwargs: dict[str, Any], guard: BudgetGuard, plan: Plan) -> None:
    """Hold the call's estimate; send it on the model the guard chose, or record the refusal and raise."""
    try:
        ticket = guard.admit(plan)
    except GuardRefusal as exc:
        call.refuse(exc)
        raise
    except Exception as exc:
        guard.stats.add("internal_errors")
        log.warning("budget guard failed (%s: %s); call let through unguarded", type(exc).__name__, exc)
        return
    if ticket is not None:
        call.admitted(ticket)
        kwargs["model"] = ticket.model


def _guard(call: Call, kwargs: dict[str, Any], guard: BudgetGuard | None, messages: Any) -> None:
    plan = _plan(call, kwargs, guard)
    if plan is None or guard is None:
        return
    if plan.count_tokens:
        try:
            plan.input_tokens = int(messages.count_tokens(**plan.count_params()).input_tokens)
        except Exception as exc:
            _counted_locally(guard, exc)
    _admit(call, kwargs, guard, plan)


async def _guard_async(call: Call, kwargs: dict[str, Any], guard: BudgetGuard | None, messages: Any) -> None:
    plan = _plan(call, kwargs, guard)
    if plan is None or guard is None:
        return
    if plan.count_tokens:
        try:
            plan.input_tokens = int((await messages.count_tokens(**plan.count_params())).input_tokens)
        except Exception as exc:
            _counted_locally(guard, exc)
    _admit(call, kwargs, guard, plan)


class InstrumentedClient:
    """The wrapped client: ``messages`` is instrumented, every other attribute is the client's own."""

    def __init__(self, client: Any, emitter: Emitter, messages_cls: type) -> None:
        self.unwrapped = client
        self.ledger_emitter = emitter
        self._messages_cls = messages_cls
        self.messages = messages_cls(client.messages, emitter)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unwrapped, name)

    def with_options(self, **options: Any) -> InstrumentedClient:
        return InstrumentedClient(self.unwrapped.with_options(**options), self.ledger_emitter, self._messages_cls)

    copy = with_options


class _StreamObserver:
    """Accumulates a stream's usage from its raw events and finishes the call once."""

    def __init__(self, call: Call, headers: Any, status: int | None) -> None:
        self.call = call
        self.headers = headers
        self.status = status
        self.model: Any = None
        self.billing: dict[str, Any] = {}
        self.usage: dict[str, Any] | None = None
        self.fallback: Callable[[], Any] | None = None

    def observe(self, event: Any) -> None:
        try:
            kind = getattr(event, "type", None)
            if kind == "message_start":
                message = event.message
                self.model = message.model
                self.usage = usage_of(message.usage)
                self.billing = billing_of(message.usage)
            elif kind == "message_delta" and self.usage is not None:
                merge_delta_usage(self.usage, event.usage)
            elif kind == "message_stop":
                self.end(complete=True)
        except Exception:  # an unexpected event shape: the call ends as incomplete, the caller is unaffected
            pass

    def end(self, complete: bool = False) -> None:
        if self.usage is None and self.fallback is not None:
            try:
                message = self.fallback()
                self.model, self.usage = message.model, usage_of(message.usage)
                self.billing = billing_of(message.usage)
            except Exception:
                pass
        self.call.finish(model=self.model, usage=self.usage, billing=self.billing, status=self.status,
                         headers=self.headers, error_type=None if complete else INCOMPLETE_STREAM)


class _ObservedBase:
    """What both stream wrappers share: delegation to the SDK's stream and one event when dropped."""

    def __init__(self, stream: Any, observer: _StreamObserver) -> None:
        self._stream = stream
        self._observer = observer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:  # dropped without being read to the end or closed: still one event
        observer = self.__dict__.get("_observer")
        if observer is not None:
            observer.end()


class ObservedStream(_ObservedBase):
    """A ``Stream`` of raw events that reports what passes through it; otherwise the stream itself."""

    def __iter__(self) -> Iterator[Any]:
        try:
            for event in self._stream:
                self._observer.observe(event)
                yield event
        except Exception as exc:
            self._observer.call.fail(exc)
            raise
        finally:
            self._observer.end()

    def __next__(self) -> Any:
        try:
            event = next(self._stream)
        except StopIteration:
            self._observer.end()
            raise
        except Exception as exc:
            self._observer.call.fail(exc)
            raise
        self._observer.observe(event)
        return event

    def __enter__(self) -> ObservedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._observer.end()


class AsyncObservedStream(_ObservedBase):
    """The ``AsyncStream`` counterpart of ``ObservedStream``."""

    async def __aiter__(self) -> AsyncIterator[Any]:
        try:
            async for event in self._stream:
                self._observer.observe(event)
                yield event
        except Exception as exc:
            self._observer.call.fail(exc)
            raise
        finally:
            self._observer.end()

    async def __anext__(self) -> Any:
        try:
            event = await self._stream.__anext__()
        except StopAsyncIteration:
            self._observer.end()
            raise
        except Exception as exc:
            self._observer.call.fail(exc)
            raise
        self._observer.observe(event)
        return event

    async def __aenter__(self) -> AsyncObservedStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            self._observer.end()


def _observe_helper_stream(helper: Any, call: Call, observed_cls: type) -> _StreamObserver:
    """Put an observer between a ``MessageStream`` helper and its raw stream (read lazily, on first use).

    Should a future SDK keep no ``_raw_stream``, the call still ends with the helper's snapshot at exit.
    """
    response = getattr(helper, "response", None)
    observer = _StreamObserver(call, getattr(response, "headers", None), getattr(response, "status_code", None))
    raw = getattr(helper, "_raw_stream", None)
    if raw is not None:
        helper._raw_stream = observed_cls(raw, observer)
    else:
        observer.fallback = lambda: helper.current_message_snapshot
    return observer


class InstrumentedMessages:
    """``client.messages`` with ``create`` and ``stream`` recorded."""

    def __init__(self, messages: Any, emitter: Emitter) -> None:
        self._messages = messages
        self._emitter = emitter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._messages, name)

    def create(self, **kwargs: Any) -> Any:
        call = _prepared(kwargs, self._emitter)
        _guard(call, kwargs, self._emitter.guard, self._messages)
        try:
            raw = self._messages.with_raw_response.create(**kwargs)
            result = raw.parse()
        except _api_error() as exc:
            call.fail(exc)
            raise
        if kwargs.get("stream") is True:
            return ObservedStream(result, _StreamObserver(call, raw.headers, raw.status_code))
        call.finish(model=result.model, usage=usage_of(result.usage), status=raw.status_code, headers=raw.headers,
                    billing=billing_of(result.usage))
        return result

    def stream(self, **kwargs: Any) -> StreamManager:
        return StreamManager(self._messages, kwargs, _prepared(kwargs, self._emitter), self._emitter.guard)


class StreamManager:
    """``messages.stream(...)``'s context manager, recording the call it makes (guarded when it is entered,
    just before the request is sent)."""

    def __init__(self, messages: Any, kwargs: dict[str, Any], call: Call, guard: BudgetGuard | None) -> None:
        self._messages = messages
        self._kwargs = kwargs
        self._call = call
        self._guard = guard
        self._manager: Any = None
        self._observer: _StreamObserver | None = None

    def __enter__(self) -> Any:
        _guard(self._call, self._kwargs, self._guard, self._messages)
        self._manager = self._messages.stream(**self._kwargs)
        try:
            helper = self._manager.__enter__()
        except _api_error() as exc:
            self._call.fail(exc)
            raise
        self._observer = _observe_helper_stream(helper, self._call, ObservedStream)
        return helper

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self._manager.__exit__(*exc_info)
        finally:
            if self._observer is not None:
                self._observer.end()


class AsyncInstrumentedMessages(InstrumentedMessages):
    """``AsyncAnthropic().messages`` with ``create`` and ``stream`` recorded."""

    async def create(self, **kwargs: Any) -> Any:  # type: ignore[override]
        call = _prepared(kwargs, self._emitter)
        await _guard_async(call, kwargs, self._emitter.guard, self._messages)
        try:
            raw = await self._messages.with_raw_response.create(**kwargs)
            result = raw.parse()
            if hasattr(result, "__await__"):  # SDKs whose async raw response parses asynchronously
                result = await result
        except _api_error() as exc:
            call.fail(exc)
            raise
        if kwargs.get("stream") is True:
            return AsyncObservedStream(result, _StreamObserver(call, raw.headers, raw.status_code))
        call.finish(model=result.model, usage=usage_of(result.usage), status=raw.status_code, headers=raw.headers,
                    billing=billing_of(result.usage))
        return result

    def stream(self, **kwargs: Any) -> AsyncStreamManager:  # type: ignore[override]
        return AsyncStreamManager(self._messages, kwargs, _prepared(kwargs, self._emitter), self._emitter.guard)


class AsyncStreamManager:
    """``AsyncAnthropic().messages.stream(...)``'s async context manager, recording the call it makes."""

    def __init__(self, messages: Any, kwargs: dict[str, Any], call: Call, guard: BudgetGuard | None) -> None:
        self._messages = messages
        self._kwargs = kwargs
        self._call = call
        self._guard = guard
        self._manager: Any = None
        self._observer: _StreamObserver | None = None

    async def __aenter__(self) -> Any:
        await _guard_async(self._call, self._kwargs, self._guard, self._messages)
        self._manager = self._messages.stream(**self._kwargs)
        try:
            helper = await self._manager.__aenter__()
        except _api_error() as exc:
            self._call.fail(exc)
            raise
        self._observer = _observe_helper_stream(helper, self._call, AsyncObservedStream)
        return helper

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self._manager.__aexit__(*exc_info)
        finally:
            if self._observer is not None:
                self._observer.end()
