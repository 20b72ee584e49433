"""Application-side emitter of schema-v1 usage events around the official ``anthropic`` SDK (docs/emitter.md).

Light on purpose: only the standard library is imported here; ``anthropic`` is needed once a client is
instrumented and ``confluent_kafka`` once a Kafka sink is made. No Dagster, ClickHouse, pyarrow or pandas.

    from pipelines.emitter import instrument
    client = instrument(anthropic.Anthropic(), team="search", feature="answer", env="prod")
    client.messages.create(..., ledger_tags={"user": "u_42"})

A ``BudgetGuard`` (``instrument(..., guard=BudgetGuard())``) refuses or downgrades calls by the budgets' policies;
it needs ``redis`` only with a Redis URL.
"""

from __future__ import annotations

from pipelines.emitter.client import TAGS_KWARG, instrument
from pipelines.emitter.guard import BudgetExceeded, BudgetGuard, BudgetGuardUnavailable, GuardRefusal
from pipelines.emitter.recorder import Emitter, Tags
from pipelines.emitter.sinks import JsonlFileSink, KafkaSink, default_sink

__all__ = ["TAGS_KWARG", "BudgetExceeded", "BudgetGuard", "BudgetGuardUnavailable", "Emitter", "GuardRefusal",
           "JsonlFileSink", "KafkaSink", "Tags", "default_sink", "instrument"]
