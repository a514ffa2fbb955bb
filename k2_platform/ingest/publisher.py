"""Kafka side of ingestion: trades, rejects (DLQ) and feed gaps, one idempotent producer (acks=all).

Never drops: when the producer's bounded queue is full, produce waits (serving delivery reports)
until there is room, which slows the feeds down instead. Every delivery is checked, but only
failures are reported (delivery.report.only.error): each one is counted and kept so the service
exits non-zero, and a message that neither failed nor is still queued was acknowledged by the
in-sync replicas. Not reporting successes saves a Python callback per trade, about half of what
producing costs. Produce latency comes from librdkafka's own statistics instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, Producer

from ..schemas.feed_gap import FeedGap
from ..schemas.ingest_reject import IngestReject
from ..settings import Settings
from .metrics import IngestMetrics
from .trade_wire import WireTrade

log = logging.getLogger(__name__)
_FULL_QUEUE_WAIT_S = 0.05
_KEPT_FAILURES = 100  # reasons kept for the report; all failures are counted
# librdkafka window statistics (µs) per broker -> our latency stages
_LATENCY_STATS = (("queue", "int_latency"), ("request", "rtt"))
_QUANTILES = (("0.5", "p50"), ("0.99", "p99"))


def producer_config(settings: Settings) -> dict:
    i = settings.ingest
    return {
        "bootstrap.servers": settings.kafka.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": i.linger_ms,
        "compression.type": i.compression,
        "queue.buffering.max.messages": i.producer_queue_max_messages,
        "delivery.timeout.ms": i.delivery_timeout_ms,
        "delivery.report.only.error": True,
        "statistics.interval.ms": i.producer_stats_interval_ms,
        "client.id": "k2-ingest",
    }


class Publisher:
    def __init__(self, settings: Settings, exchanges: Iterable[str], metrics: IngestMetrics):
        self.settings = settings
        self.metrics = metrics
        self.producer = Producer({**producer_config(settings), "on_delivery": self._on_failure, "stats_cb": self._on_stats})
        self._send = self.producer.produce
        self.produced = 0
        self.failed = 0
        self.failures: list[str] = []
        self._topics = {exchange: settings.topics.trades(exchange) for exchange in exchanges}
        for topic in self._topics.values():
            metrics.delivery_errors.labels(topic)  # exposed as 0 from the start, not only after a first failure

    @property
    def delivered(self) -> int:
        """Messages acknowledged so far: produced, not failed, no longer in flight."""
        return self.produced - self.failed - len(self.producer)

    def trade(self, trade: WireTrade) -> None:
        s = trade.venue_symbol
        try:
            self._send(self._topics[s.exchange], trade.value, s.kafka_key)
        except BufferError:
            self._produce(self._topics[s.exchange], s.kafka_key, trade.value, None)  # waits for room
            return
        self.produced += 1

    def reject(self, reject: IngestReject) -> None:
        self._produce(self.settings.topics.dlq, reject.exchange.encode(), reject.raw, reject.headers())

    def gap(self, gap: FeedGap) -> None:
        failed_before = self.failed
        self._produce(self.settings.topics.feed_gaps, gap.key(), gap.encode(), None)
        if gap.repaired:
            return
        # Nothing may be published past an unrepaired gap before its record is in Kafka: a crash in between
        # would leave a restart resuming after the gap with no record of it. Gaps are rare; the wait is short.
        remaining = self.producer.flush(self.settings.ingest.flush_timeout_s)
        if remaining or self.failed != failed_before:
            raise RuntimeError(
                f"feed gap {gap.exchange} {gap.symbol} {gap.first_missing_id}..{gap.last_missing_id} not acknowledged "
                f"by Kafka ({remaining} messages still queued, {self.failed - failed_before} failed): stopping"
            )

    async def settle(self, timeout_s: float) -> bool:
        """Wait (without blocking the event loop) until nothing is in flight; False if the timeout came first."""
        deadline = time.monotonic() + timeout_s
        while len(self.producer) and time.monotonic() < deadline:
            self.producer.poll(0)
            await asyncio.sleep(_FULL_QUEUE_WAIT_S)
        return not len(self.producer)

    def _produce(self, topic: str, key: bytes, value: bytes, headers) -> None:
        while True:
            try:
                self._send(topic, value, key, headers=headers)
                self.produced += 1
                return
            except BufferError:
                self.metrics.backpressure.inc()
                self.producer.poll(_FULL_QUEUE_WAIT_S)

    def _on_failure(self, error: KafkaError | None, message) -> None:
        if error is None:  # only failures are reported; kept for safety should that setting change
            return
        self.failed += 1
        self.metrics.delivery_errors.labels(message.topic()).inc()
        if len(self.failures) < _KEPT_FAILURES:
            self.failures.append(f"{message.topic()}: {error}")
            log.error("Kafka delivery failed for %s: %s", message.topic(), error)

    def _on_stats(self, stats_json: str) -> None:
        brokers = [b for b in json.loads(stats_json).get("brokers", {}).values() if b.get("nodeid", -1) >= 0]
        for stage, field in _LATENCY_STATS:
            windows = [b[field] for b in brokers if b.get(field, {}).get("cnt")]
            for quantile, name in _QUANTILES:
                if windows:
                    self.metrics.produce_latency.labels(stage, quantile).set(max(w[name] for w in windows) / 1e6)

    def poll(self) -> None:
        self.producer.poll(0)
        self.metrics.queue_depth.set(len(self.producer))

    def flush(self, timeout_s: float) -> int:
        """Wait for every queued message; returns how many are still undelivered."""
        remaining = self.producer.flush(timeout_s)
        self.metrics.queue_depth.set(remaining)
        return remaining
