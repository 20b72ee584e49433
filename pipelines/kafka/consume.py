"""Drain the topic up to the high watermarks seen at the start, in bounded batches, committing after each insert.

Per batch: insert the raw messages into ClickHouse, which checks them with the event rules and writes rows
and dead letters, then commit the next offset of every partition in the batch. The whole run uses one
database session. A crash before the commit re-delivers the batch to
whichever consumer owns the partition next; ``usage_events`` (ReplacingMergeTree on event_id) and
``rejected_events`` (keyed by topic, partition, offset) collapse the repeat, so nothing is lost and
nothing is counted twice. A poison message becomes a dead letter and its offset is committed like any
other, so it never blocks its partition.

The run joins the consumer group (``subscribe``), so several runs or consumers share the partitions;
on a rebalance the batch read so far is written and committed before the partitions are given up.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from clickhouse_connect.driver.client import Client
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from pipelines.events.load import Tally
from pipelines.kafka.lag import PartitionLag, group_lag
from pipelines.kafka.messages import Received, write_batch
from pipelines.kafka.resource import KafkaSource
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger(__name__)

_POLL_S = 0.1  # how often a run checks whether it has reached its targets
HEARTBEAT_S = 10.0  # a run says it is alive at least this often (the lag sensor watches for silence)


@dataclass
class DrainReport:
    messages: Counter[int] = field(default_factory=Counter)  # partition -> messages read
    loaded: int = 0
    rejected: int = 0
    batches: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    lag: list[PartitionLag] = field(default_factory=list)  # after the run

    def add(self, counted: Tally) -> None:
        self.batches += 1
        self.loaded += counted.loaded
        self.rejected += counted.rejected
        self.reasons.update(counted.reasons)
        if counted.first_ts is not None and counted.last_ts is not None:
            self.first_ts = counted.first_ts if self.first_ts is None else min(self.first_ts, counted.first_ts)
            self.last_ts = counted.last_ts if self.last_ts is None else max(self.last_ts, counted.last_ts)


class _Drain:
    """One run's state: the targets, what the group assigned us, and the batch not yet committed."""

    def __init__(self, client: Client, source: KafkaSource, consumer: Consumer,
                 before: list[PartitionLag], after_insert: Callable[[], None] | None) -> None:
        self.client, self.source, self.consumer = client, source, consumer
        self.run = uuid.uuid4().hex
        self.targets = {p.partition: p.high_watermark for p in before}
        self.oldest = {p.partition: p.low_watermark for p in before}
        self.after_insert = after_insert
        self.next_offset: dict[int, int] | None = None  # per assigned partition; None until assigned
        self.pending: list[Received] = []
        self.report = DrainReport()

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=self.source.timeout_s) if partitions else []
        self.next_offset = {tp.partition: max(tp.offset, self.oldest.get(tp.partition, 0)) for tp in committed}

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.flush()
        self.next_offset = None

    def done(self) -> bool:
        return self.next_offset is not None and all(
            offset >= self.targets.get(partition, 0) for partition, offset in self.next_offset.items()
        )

    def take(self, messages: list[Message]) -> int:
        """Keep the messages for the next flush and move the partitions' positions; returns how many were events."""
        taken = len(self.pending)
        for message in messages:
            partition, offset, error = message.partition(), message.offset(), message.error()
            if error is None:
                self.pending.append(Received(partition, offset, message.value()))
                offset += 1
            elif error.code() == KafkaError._PARTITION_EOF:
                # The end of the partition: done here even when offsets have gaps (transaction markers).
                offset = max(offset, self.targets.get(partition, 0))
            else:
                raise KafkaException(error)
            if self.next_offset is not None:
                self.next_offset[partition] = offset
        return len(self.pending) - taken

    def flush(self) -> None:
        """Insert the pending batch, then commit it: the only place offsets are committed.

        The batch leaves memory first: if anything below fails, it is re-delivered, never re-written
        by the revoke that closing the consumer triggers."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        topic = self.source.topic
        counted = write_batch(self.client, f"{self.run}:{self.report.batches}", topic, batch)
        if self.after_insert is not None:
            self.after_insert()
        ends: dict[int, int] = {}
        for message in batch:
            ends[message.partition] = max(ends.get(message.partition, 0), message.offset + 1)
        self.consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in sorted(ends.items())],
                             asynchronous=False)
        self.report.messages.update(Counter(m.partition for m in batch))
        self.report.add(counted)


def drain(ch: ClickHouseResource, source: KafkaSource, max_seconds: float = 600.0,
          after_insert: Callable[[], None] | None = None,
          heartbeat: Callable[[DrainReport], None] | None = None) -> DrainReport:
    """Read what the group has not committed, up to the high watermarks at the start (or ``max_messages_per_run``).

    ``after_insert`` runs between a batch's insert and its commit (tests use it to crash there);
    ``heartbeat`` after every committed batch and at least every HEARTBEAT_S while the run waits.
    """
    # The session outlives the consumer: closing the consumer revokes its partitions, which flushes.
    with ch.connect() as client, source.consumer() as consumer:
        before = group_lag(consumer, source.topic, source.timeout_s)
        if sum(p.lag for p in before) == 0:
            return DrainReport(lag=before)
        run = _Drain(client, source, consumer, before, after_insert)
        consumer.subscribe([source.topic], on_assign=run.on_assign, on_revoke=run.on_revoke)
        started = beat = time.monotonic()
        read = batches = 0
        while not run.done() and read < source.max_messages_per_run:
            if heartbeat is not None and (time.monotonic() - beat >= HEARTBEAT_S or run.report.batches != batches):
                heartbeat(run.report)
                beat = time.monotonic()
            batches = run.report.batches
            waited = time.monotonic() - started
            if waited > max_seconds or (run.next_offset is None and waited > source.timeout_s):
                log.warning("stopping after %.0f s with %s", waited,
                            "no partition assigned" if run.next_offset is None else "the high watermarks not reached")
                break
            room = min(source.batch_messages - len(run.pending), source.max_messages_per_run - read)
            read += run.take(consumer.consume(num_messages=room, timeout=_POLL_S))
            if len(run.pending) >= source.batch_messages:
                run.flush()
        run.flush()
    # Measured by a client outside the group: the run's own consumer would queue these requests behind
    # its fetches, which the broker holds for up to fetch.wait.max.ms each.
    with source.consumer() as consumer:
        run.report.lag = group_lag(consumer, source.topic, source.timeout_s)
    return run.report
