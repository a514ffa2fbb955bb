"""`k2 metrics` as a service of the local stack: the lakehouse's metrics (lag, freshness, rows, drain runs) on
one loopback port for Prometheus. Drain runs are short-lived Dagster runs; this long-lived process is what
Prometheus scrapes for them (why a file and not a Pushgateway: lakehouse/metrics.py)."""

from __future__ import annotations

import sys

from ..settings import Settings
from .http_service import HttpService


class MetricsExporter(HttpService):
    title = "K2 metrics exporter"

    def __init__(self, settings: Settings):
        m = settings.monitoring
        super().__init__(settings.monitoring_dir / "exporter", m.host, m.exporter_port, "K2_MONITORING__EXPORTER_PORT", m.start_timeout_s)
        self.settings = settings
        self.settings_file = self.dir / "settings.json"

    def prepare(self) -> None:
        # The exporter runs with exactly the settings of the `k2 up` that started it, whatever its environment.
        self.settings_file.write_text(self.settings.model_dump_json())

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "k2_platform.ops.cli", "metrics", "--settings-file", str(self.settings_file)]

    def marker(self) -> str:
        return str(self.settings_file)

    def ready_url(self) -> str:
        return f"{self.url}/metrics"
