"""The local stack as one unit: start, stop and report every service K2 runs for itself."""

from __future__ import annotations

import shutil

from ..lakehouse.catalog import open_catalog
from ..lakehouse.instruments_table import sync_instruments
from ..lakehouse.tables import ensure_all_tables
from ..schemas.instruments import default_instruments
from ..settings import Settings
from .kafka_broker import KafkaBroker, ensure_topics
from .metrics_exporter import MetricsExporter
from .prometheus import Prometheus


def services(settings: Settings, monitoring: bool = True) -> dict:
    """The stack's services in start order; monitoring=False leaves out Prometheus and its exporter (`k2 up`
    starts them only with --with-monitoring; `k2 down` and `k2 status` always include them)."""
    found = {"kafka": KafkaBroker(settings)}
    if settings.catalog.profile == "s3":
        from .seaweedfs import SeaweedFS

        found["seaweedfs"] = SeaweedFS(settings)
    if monitoring:
        found.update(monitoring_services(settings))
    return found


def monitoring_services(settings: Settings) -> dict:
    return {"metrics": MetricsExporter(settings), "prometheus": Prometheus(settings)}


def start_all(found: dict, progress=print) -> None:
    started = []
    try:
        for service in found.values():
            progress(service.start(progress))
            started.append(service)
    except BaseException:
        # No half-started stack: stop what this call started before reporting the failure.
        for service in started:
            service.stop()
        raise


def up(settings: Settings, progress=print, with_monitoring: bool = False) -> None:
    start_all(services(settings, monitoring=False), progress)
    created = ensure_topics(settings)
    progress(f"Topics created: {', '.join(created)}" if created else "Topics already exist.")
    catalog = open_catalog(settings)
    tables = ensure_all_tables(catalog, settings.catalog.namespace)
    if sync_instruments(catalog, settings.catalog.namespace, default_instruments()):
        progress("Instruments reference data written to the instruments table.")
    progress(f"Iceberg catalog {settings.catalog_uri}: namespace {settings.catalog.namespace}, {len(tables)} tables ready.")
    if with_monitoring:  # after the tables: the exporter reads them from its first scrape
        start_all(monitoring_services(settings), progress)


def down(settings: Settings, wipe: bool = False, progress=print) -> None:
    for service in reversed(list(services(settings).values())):
        progress(service.stop())
    if wipe:
        shutil.rmtree(settings.state_dir, ignore_errors=True)
        progress(f"Removed state directory {settings.state_dir}")


def status(settings: Settings) -> dict:
    report = {
        "state_dir": str(settings.state_dir),
        "kafka_bootstrap": settings.kafka.bootstrap,
        "catalog_profile": settings.catalog.profile,
        "catalog_uri": settings.catalog_uri,
        "dagster_home": str(settings.dagster_home),
        "services": {},
    }
    for name, service in services(settings).items():
        pid = service.pid()
        report["services"][name] = {"pid": pid, "running": pid is not None or service.external, "answers": service.answers()}
    return report
