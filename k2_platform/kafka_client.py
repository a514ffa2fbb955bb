"""Kafka consumers that read assigned offset ranges, and partition watermarks: shared by every layer.

A leaf module like settings (it imports nothing of K2), so ingest (resume marks), the lakehouse
(drains, sensors) and the query layer (/health) read Kafka positions one way. No consumer here uses
group offsets: the Iceberg tables hold progress (DESIGN section 2); the group id only names the client.
"""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition


def range_consumer(bootstrap: str, client_id: str, **overrides) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": client_id,
            "client.id": client_id,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "log_level": 0,
            **overrides,
        }
    )


def topic_watermarks(consumer: Consumer, topic: str, timeout_s: float) -> dict[int, tuple[int, int]] | None:
    """(low, high) offsets per partition, read from the broker (not cached); None when the topic does not exist."""
    metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return None
    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s, cached=False) for p in sorted(metadata.partitions)}
