"""How far the consumer group is behind, per partition: committed offset, high watermark, lag."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed: int | None  # next offset the group will read; None: the group never committed here
    low_watermark: int
    high_watermark: int

    @property
    def lag(self) -> int:
        """Messages retained on the broker that the group has not committed yet."""
        start = self.low_watermark if self.committed is None else max(self.committed, self.low_watermark)
        return max(self.high_watermark - start, 0)


def partitions_of(consumer: Consumer, topic: str, timeout_s: float) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise KafkaException(metadata.error if metadata is not None else f"topic {topic} not in broker metadata")
    return sorted(metadata.partitions)


def group_lag(consumer: Consumer, topic: str, timeout_s: float) -> list[PartitionLag]:
    """Lag of ``consumer``'s group on every partition of ``topic``; needs no group membership."""
    partitions = [TopicPartition(topic, p) for p in partitions_of(consumer, topic, timeout_s)]
    committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=timeout_s)}
    lags = []
    for tp in partitions:
        low, high = consumer.get_watermark_offsets(tp, timeout=timeout_s, cached=False)
        offset = committed[tp.partition]
        lags.append(PartitionLag(tp.partition, offset if offset >= 0 else None, low, high))
    return lags
