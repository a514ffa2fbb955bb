"""Kafka access of the query layer: end offsets (for /health) and the record type of the tail.

Consumers are kept warm in a small pool (creating one costs a broker round trip per call) and
used with assign only: no group membership, no commits; the tables hold progress (DESIGN section 2).
The hybrid read's tail itself is consumed continuously by `tail_reader.TailReader`.
"""
from __future__ import annotations

import queue
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, TopicPartition

from ..settings import Settings


class TailUnavailable(RuntimeError):
    """The broker could not deliver the tail in time; the hybrid read refuses to answer inexactly."""


@dataclass(frozen=True)
class TailRecord:
    topic: str
    partition: int
    offset: int
    value: bytes | None


class KafkaTail:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._pool: queue.LifoQueue[Consumer] = queue.LifoQueue(maxsize=settings.query.tail_consumers)

    def _consumer(self) -> Consumer:
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            return Consumer({
                "bootstrap.servers": self.settings.kafka.bootstrap,
                "group.id": "k2-query-tail",  # names the client only: assign, never subscribe
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 10,
                "socket.connection.setup.timeout.ms": int(self.settings.query.broker_timeout_s * 1000),
                "log_level": 0,
            })

    def _release(self, consumer: Consumer) -> None:
        try:
            self._pool.put_nowait(consumer)
        except queue.Full:
            consumer.close()

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get_nowait().close()

    def end_offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """(low, high) watermarks of every partition of the topics that exist."""
        consumer = self._consumer()
        timeout = self.settings.query.broker_timeout_s
        try:
            metadata = consumer.list_topics(timeout=timeout).topics
            return {
                (topic, p): consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout, cached=False)
                for topic in topics if topic in metadata and metadata[topic].error is None
                for p in sorted(metadata[topic].partitions)
            }
        except KafkaException as exc:
            raise TailUnavailable(f"Kafka at {self.settings.kafka.bootstrap} is unreachable: {exc}") from exc
        finally:
            self._release(consumer)
