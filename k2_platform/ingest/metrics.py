"""Prometheus metrics of `k2 ingest` (own registry, so several feeds can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("k2_ingest_messages", "WebSocket frames received", ["exchange"], registry=r)
        self.trades = Counter("k2_ingest_trades", "Trades produced to Kafka", ["exchange", "source"], registry=r)
        self.duplicates = Counter("k2_ingest_duplicates", "Redelivered trades dropped (reconnect overlap)", ["exchange"], registry=r)
        self.rejects = Counter("k2_ingest_rejects", "Frames or trades sent to the DLQ", ["exchange", "stage"], registry=r)
        self.reconnects = Counter("k2_ingest_reconnects", "WebSocket reconnects", ["exchange", "reason"], registry=r)
        self.gaps_found = Counter("k2_ingest_gaps_found", "Trade-id gaps detected", ["exchange"], registry=r)
        self.gaps_repaired = Counter("k2_ingest_gaps_repaired", "Trade-id gaps fully repaired from REST", ["exchange"], registry=r)
        self.delivery_errors = Counter("k2_ingest_delivery_errors", "Kafka deliveries that failed", ["topic"], registry=r)
        self.backpressure = Counter("k2_ingest_backpressure_waits", "Waits because the producer queue was full", registry=r)
        self.produce_latency = Gauge(
            "k2_ingest_produce_latency_seconds",
            "Produce latency percentile over librdkafka's last statistics window: queue = waiting in the producer, "
            "request = broker round trip (acks=all)",
            ["stage", "quantile"],
            registry=r,
        )
        self.queue_depth = Gauge("k2_ingest_producer_queue_depth", "Messages waiting in the producer queue", registry=r)

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        if port:
            start_http_server(port, addr=host, registry=self.registry)
