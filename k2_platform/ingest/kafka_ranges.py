"""Reading a bounded offset range of one topic partition back from Kafka (resume marks, drills)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

_BATCH = 5000


def read_range(consumer: Consumer, topic: str, partition: int, start: int, end: int, timeout_s: float) -> list[Message]:
    """The records at offsets [start, end) of one partition (end at most the high watermark)."""
    if end <= start:
        return []
    consumer.assign([TopicPartition(topic, partition, start)])
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for msg in consumer.consume(min(_BATCH, end - start), 0.5):
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        return records
                    raise RuntimeError(f"reading {topic}[{partition}] failed: {error}")
                if msg.offset() >= end:
                    return records
                records.append(msg)
                if msg.offset() == end - 1:
                    return records
        raise TimeoutError(f"reading {topic}[{partition}] offsets {start}..{end - 1} took longer than {timeout_s}s")
    finally:
        consumer.unassign()
