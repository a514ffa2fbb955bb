"""A local Prometheus (Debian's `prometheus` package) scraping the K2 stack on loopback.

Its scrape jobs come from deploy/prometheus/prometheus.yml, the file docker-compose's Prometheus mounts: one list
of jobs for both. Here each job's target becomes this host's loopback address and the port from settings.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from ..settings import Settings
from .errors import StackError
from .http_service import HttpService

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "prometheus.yml"


def job_ports(settings: Settings) -> dict[str, int]:
    """Scrape job name (as in the template) -> the port its K2 process serves metrics on."""
    return {"k2-ingest": settings.ingest.metrics_port, "k2-api": settings.query.api_port, "k2-metrics": settings.monitoring.exporter_port}


def render_config(settings: Settings, template: Path = TEMPLATE) -> dict:
    config = yaml.safe_load(template.read_text())
    m, ports = settings.monitoring, job_ports(settings)
    interval = f"{round(m.scrape_interval_s * 1000)}ms"  # Prometheus durations take no fractions
    config["global"] = {**config.get("global", {}), "scrape_interval": interval, "evaluation_interval": interval}
    for job in config["scrape_configs"]:
        if job["job_name"] not in ports:
            raise StackError(f"{template}: scrape job {job['job_name']!r} has no port in settings; known jobs: {', '.join(ports)}")
        job["static_configs"] = [{"targets": [f"{m.host}:{ports[job['job_name']]}"]}]
    return config


class Prometheus(HttpService):
    title = "Prometheus"

    def __init__(self, settings: Settings):
        m = settings.monitoring
        super().__init__(settings.monitoring_dir / "prometheus", m.host, m.prometheus_port, "K2_MONITORING__PROMETHEUS_PORT", m.start_timeout_s)
        self.settings = settings
        self.config_file = self.dir / "prometheus.yml"

    def prepare(self) -> None:
        self.config_file.write_text(yaml.safe_dump(render_config(self.settings), sort_keys=False))

    def argv(self) -> list[str]:
        binary = shutil.which(self.settings.monitoring.prometheus_binary)
        if binary is None:
            raise StackError(
                f"{self.settings.monitoring.prometheus_binary} not found: run scripts/setup.sh "
                "(apt-get install prometheus) or set K2_MONITORING__PROMETHEUS_BINARY"
            )
        return [
            binary,
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--storage.tsdb.retention.time={self.settings.monitoring.retention}",
            f"--web.listen-address={self.host}:{self.port}",
        ]

    def marker(self) -> str:
        return f"--config.file={self.config_file}"

    def ready_url(self) -> str:
        return f"{self.url}/-/ready"
