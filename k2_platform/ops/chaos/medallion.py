"""Kafka -> bronze -> silver -> gold (and the feed-gaps topic -> feed_gaps) with the real medallion steps,
run in this process until no step has a backlog: what the Dagster sensors would do, without waiting for ticks."""

from __future__ import annotations

import time

from pyiceberg.catalog import Catalog

from ...lakehouse import backlog
from ...lakehouse.bronze import drain_to_bronze
from ...lakehouse.catalog import open_catalog
from ...lakehouse.feed_gaps import drain_feed_gaps
from ...lakehouse.gold import build_gold
from ...lakehouse.refine import refine
from ...lakehouse.tables import ensure_all_tables
from ...settings import Settings

# In dependency order, so one pass moves a record as far as it can go.
STEPS = (
    (backlog.feed_gaps_backlog, drain_feed_gaps),
    (backlog.bronze_backlog, drain_to_bronze),
    (backlog.refine_backlog, refine),
    (backlog.gold_backlog, build_gold),
)


def medallion_catalog(settings: Settings) -> Catalog:
    catalog = open_catalog(settings)
    ensure_all_tables(catalog, settings.catalog.namespace)
    return catalog


def drain_to_gold(settings: Settings, catalog: Catalog) -> tuple[int, float]:
    """Every step until none has anything left: (runs, seconds)."""
    runs, started = 0, time.monotonic()
    progressed = True
    while progressed:
        progressed = False
        for find, run in STEPS:
            while rng := find(settings, catalog):
                run(settings, catalog, rng)
                runs += 1
                progressed = True
    return runs, time.monotonic() - started
