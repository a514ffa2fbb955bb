"""Kafka access for drain runs and sensors: end offsets without consuming, and exact-range reads."""
from __future__ import annotations

import time

import pyarrow as pa
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition as KafkaTP

from ..settings import Settings
from .offsets import OffsetRange, TopicPartition

RECORD_SCHEMA = pa.schema([
    ("topic", pa.large_string()),
    ("partition", pa.int32()),
    ("offset", pa.int64()),
    ("kafka_timestamp", pa.timestamp("us", tz="UTC")),
    ("key", pa.large_binary()),
    ("value", pa.large_binary()),
])


def consumer(settings: Settings, **overrides) -> Consumer:
    # No group offsets are used: the tables hold progress (DESIGN section 2). The group id only
    # names the client in broker logs.
    return Consumer({
        "bootstrap.servers": settings.kafka.bootstrap,
        "group.id": "k2-lakehouse",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "log_level": 0,
        **overrides,
    })


def watermarks(settings: Settings, topics: list[str], timeout_s: float = 5.0) -> dict[TopicPartition, tuple[int, int]]:
    """(low, high) offsets of every partition of the topics that exist; reads metadata only."""
    c = consumer(settings)
    try:
        metadata = c.list_topics(timeout=timeout_s).topics
        out = {}
        for topic in topics:
            if topic not in metadata or metadata[topic].error is not None:
                continue
            for partition in sorted(metadata[topic].partitions):
                out[(topic, partition)] = c.get_watermark_offsets(KafkaTP(topic, partition), timeout=timeout_s, cached=False)
        return out
    finally:
        c.close()


def read_range(settings: Settings, rng: OffsetRange, timeout_s: float | None = None) -> pa.Table:
    """Exactly the records of [start, end) per partition, via assign/seek (no group, no commits)."""
    timeout_s = timeout_s or settings.lakehouse.kafka_read_timeout_s
    c = consumer(settings, **{"fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 16 << 20})
    topics, partitions, offsets, stamps, keys, values = [], [], [], [], [], []
    try:
        c.assign([KafkaTP(t, p, rng.start[(t, p)]) for (t, p) in rng.end])
        open_ends = dict(rng.end)
        deadline = time.monotonic() + timeout_s
        while open_ends:
            batch = c.consume(num_messages=20_000, timeout=0.5)
            if not batch and time.monotonic() > deadline:
                raise TimeoutError(f"Kafka did not deliver {sorted(open_ends)} up to {open_ends} within {timeout_s}s")
            for m in batch:
                err = m.error()
                tp = (m.topic(), m.partition())
                end = open_ends.get(tp)
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        if end is not None and m.offset() >= end:
                            del open_ends[tp]
                        continue
                    raise KafkaException(err)
                if end is None:
                    continue
                off = m.offset()
                if off >= end:
                    del open_ends[tp]
                    continue
                topics.append(tp[0])
                partitions.append(tp[1])
                offsets.append(off)
                stamps.append(m.timestamp()[1] * 1000)
                keys.append(m.key())
                values.append(m.value())
                if off == end - 1:
                    del open_ends[tp]
            if batch:
                deadline = time.monotonic() + timeout_s
    finally:
        c.close()
    return pa.Table.from_arrays(
        [pa.array(topics, pa.large_string()), pa.array(partitions, pa.int32()), pa.array(offsets, pa.int64()),
         pa.array(stamps, pa.int64()).cast(pa.timestamp("us", tz="UTC")), pa.array(keys, pa.large_binary()),
         pa.array(values, pa.large_binary())],
        schema=RECORD_SCHEMA,
    )
