"""Kafka access for drain runs and sensors: end offsets without consuming, and exact-range reads."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition as KafkaTP

from ..kafka_client import range_consumer, topic_watermarks
from ..settings import Settings
from .offsets import OffsetRange, TopicPartition

RECORD_SCHEMA = pa.schema(
    [
        ("topic", pa.large_string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("kafka_timestamp", pa.timestamp("us", tz="UTC")),
        ("key", pa.large_binary()),
        ("value", pa.large_binary()),
        ("headers", pa.map_(pa.large_string(), pa.large_binary())),
    ]
)
HEADERS = RECORD_SCHEMA.field("headers").type


def consumer(settings: Settings, **overrides) -> Consumer:
    return range_consumer(settings.kafka.bootstrap, "k2-lakehouse", **overrides)


def watermarks(settings: Settings, topics: list[str], timeout_s: float = 5.0) -> dict[TopicPartition, tuple[int, int]]:
    """(low, high) offsets of every partition of the topics that exist; reads metadata only."""
    c = consumer(settings)
    try:
        return {(topic, p): marks for topic in topics for p, marks in (topic_watermarks(c, topic, timeout_s) or {}).items()}
    finally:
        c.close()


def read_range(settings: Settings, rng: OffsetRange, timeout_s: float | None = None) -> pa.Table:
    """Exactly the records of [start, end) per partition, via assign/seek (no group, no commits).

    Records are taken from the consumer in large batches and turned into Arrow columns batch by
    batch, so the Python message objects of one batch are all that is held besides the columns.
    """
    timeout_s = timeout_s or settings.lakehouse.kafka_read_timeout_s
    fetch = settings.lakehouse.kafka_fetch_bytes
    c = consumer(settings, **{"fetch.max.bytes": fetch, "max.partition.fetch.bytes": fetch // 4, "queued.max.messages.kbytes": fetch >> 10})
    chunks = []
    try:
        c.assign([KafkaTP(t, p, rng.start[(t, p)]) for (t, p) in rng.end])
        open_ends = dict(rng.end)
        deadline = time.monotonic() + timeout_s
        while open_ends:
            batch = c.consume(num_messages=settings.lakehouse.kafka_read_batch, timeout=0.5)
            if not batch:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Kafka did not deliver {sorted(open_ends)} up to {open_ends} within {timeout_s}s")
                continue
            records = _without_events(batch, open_ends)
            if records:
                chunk, reached = _columns(records, rng)
                chunks.append(chunk)
                for tp in reached:
                    open_ends.pop(tp, None)
            deadline = time.monotonic() + timeout_s
    finally:
        c.close()
    return pa.Table.from_batches(chunks, schema=RECORD_SCHEMA)


def _without_events(batch: list, open_ends: dict[TopicPartition, int]) -> list:
    """The batch's records; partition-EOF events close partitions already at their end, errors raise."""
    errors = [m.error() for m in batch]
    events = [i for i, err in enumerate(errors) if err is not None]  # not errors.count(None): KafkaError == None raises
    if not events:
        return batch
    for i in events:
        m, err = batch[i], errors[i]
        if err.code() != KafkaError._PARTITION_EOF:
            raise KafkaException(err)
        tp = (m.topic(), m.partition())
        if tp in open_ends and m.offset() >= open_ends[tp]:
            del open_ends[tp]
    return [m for m, err in zip(batch, errors) if err is None]


def _columns(records: list, rng: OffsetRange) -> tuple[pa.RecordBatch, list[TopicPartition]]:
    """The records inside the range as one RecordBatch, and the partitions whose end they reach."""
    n = len(records)
    topics = [m.topic() for m in records]
    partitions = np.array([m.partition() for m in records], np.int32)
    offsets = np.array([m.offset() for m in records], np.int64)
    lo, hi = np.zeros(n, np.int64), np.zeros(n, np.int64)  # rows of partitions outside the range: dropped
    members = {}
    distinct_topics = set(topics)
    by_topic = np.array(topics, dtype=object) if len(distinct_topics) > 1 else None
    for topic in distinct_topics:
        in_topic = by_topic == topic if by_topic is not None else np.ones(n, dtype=bool)
        for partition in np.unique(partitions[in_topic]).tolist():
            tp = (topic, partition)
            if tp in rng.end:
                members[tp] = in_topic & (partitions == partition)
                lo[members[tp]], hi[members[tp]] = rng.start[tp], rng.end[tp]
    keep = (offsets >= lo) & (offsets < hi)
    reached = [tp for tp, mask in members.items() if offsets[mask].max() >= rng.end[tp] - 1]
    headers = [m.headers() for m in records]
    stamps_ms = np.array([m.timestamp()[1] for m in records], np.int64)
    chunk = pa.RecordBatch.from_arrays(
        [
            pa.array(topics, pa.large_string()),
            pa.array(partitions),
            pa.array(offsets),
            pa.array(stamps_ms * 1000).view(RECORD_SCHEMA.field("kafka_timestamp").type),
            pa.array([m.key() for m in records], pa.large_binary()),
            pa.array([m.value() for m in records], pa.large_binary()),
            pa.nulls(n, HEADERS) if headers.count(None) == n else pa.array(headers, HEADERS),
        ],
        schema=RECORD_SCHEMA,
    )
    return (chunk if keep.all() else chunk.filter(pa.array(keep))), reached
