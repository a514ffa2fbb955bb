"""The local stack as one unit: start, stop and report every service K2 runs for itself."""
from __future__ import annotations

import shutil

from ..lakehouse.catalog import open_catalog
from ..lakehouse.instruments_table import sync_instruments
from ..lakehouse.tables import ensure_all_tables
from ..schemas.instruments import default_instruments
from ..settings import Settings
from .kafka_broker import KafkaBroker, ensure_topics


def services(settings: Settings) -> dict:
    found = {"kafka": KafkaBroker(settings)}
    if settings.catalog.profile == "s3":
        from .seaweedfs import SeaweedFS

        found["seaweedfs"] = SeaweedFS(settings)
    return found


def up(settings: Settings, progress=print) -> None:
    started = []
    try:
        for name, service in services(settings).items():
            progress(service.start(progress))
            started.append(service)
    except BaseException:
        # No half-started stack: stop what this call started before reporting the failure.
        for service in started:
            service.stop()
        raise
    created = ensure_topics(settings)
    progress(f"Topics created: {', '.join(created)}" if created else "Topics already exist.")
    catalog = open_catalog(settings)
    tables = ensure_all_tables(catalog, settings.catalog.namespace)
    if sync_instruments(catalog, settings.catalog.namespace, default_instruments()):
        progress("Instruments reference data written to the instruments table.")
    progress(f"Iceberg catalog {settings.catalog_uri}: namespace {settings.catalog.namespace}, {len(tables)} tables ready.")


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
