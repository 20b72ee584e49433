"""Fixtures of the emitter tests: a local Messages API on 127.0.0.1 (messages_api_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from messages_api_server import FakeMessagesApi


@pytest.fixture
def messages_api() -> Iterator[FakeMessagesApi]:
    api = FakeMessagesApi()
    yield api
    api.close()
