"""`k2 metrics`: serve the lakehouse's Prometheus metrics (consumer lag, freshness, table rows, drain runs)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from ...settings import Settings


def register(sub) -> None:
    p = sub.add_parser(
        "metrics",
        help="serve lakehouse metrics for Prometheus (lag, freshness, drain runs; `k2 up --with-monitoring` starts it)",
        description="Computed on each scrape from Kafka watermarks and snapshot summaries; drain-run counters from the "
        "state directory. Address from settings (K2_MONITORING__HOST, K2_MONITORING__EXPORTER_PORT).",
    )
    p.add_argument("--settings-file", type=Path, help="JSON settings to use instead of the environment's (written by `k2 up`)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    from ...lakehouse.degradation_metrics import DegradationCollector
    from ...lakehouse.metrics_collector import LakehouseCollector

    if args.settings_file is not None:
        settings = Settings(**json.loads(args.settings_file.read_text()))
    registry = CollectorRegistry()
    registry.register(LakehouseCollector(settings))
    registry.register(DegradationCollector(settings))
    m = settings.monitoring
    server, _thread = start_http_server(m.exporter_port, addr=m.host, registry=registry)
    print(f"Serving lakehouse metrics at http://{m.host}:{m.exporter_port}/metrics", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0
