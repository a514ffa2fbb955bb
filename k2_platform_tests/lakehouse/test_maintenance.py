"""Table maintenance while the drains run: real Kafka, the real drain steps, real pyiceberg tables."""

from __future__ import annotations

import os
import threading
import time

import pytest
from confluent_kafka import Producer
from dagster import materialize

from k2_platform.assets.maintenance import maintenance
from k2_platform.lakehouse.backlog import bronze_backlog, gold_backlog, refine_backlog
from k2_platform.lakehouse.bronze import drain_to_bronze
from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.compaction import MAINTENANCE_KEY, compact
from k2_platform.lakehouse.gold import build_gold
from k2_platform.lakehouse.maintenance import maintain, maintain_table
from k2_platform.lakehouse.offsets import OFFSETS_KEY, committed, flatten
from k2_platform.lakehouse.refine import refine
from k2_platform.lakehouse.table_files import data_totals, stored_files
from k2_platform.lakehouse.tables import load
from k2_platform.resources import K2SettingsResource
from k2_platform.schemas.trade_encoder import TradeEncoder
from k2_platform_tests.lakehouse.trade_stream import trade

pytestmark = pytest.mark.integration
STEPS = {"bronze": (bronze_backlog, drain_to_bronze), "refine": (refine_backlog, refine), "gold": (gold_backlog, build_gold)}


def _settings(settings, **maintenance):
    lake = settings.lakehouse.model_copy(update={"max_records_per_run": 150})
    m = settings.maintenance.model_copy(
        update={"min_files_to_compact": 2, "snapshot_max_age_s": 0, "min_snapshots_to_keep": 1, "orphan_min_age_s": 3600, **maintenance}
    )
    return settings.model_copy(update={"lakehouse": lake, "maintenance": m})


def _produce(settings, first: int, last: int) -> set[str]:
    """Valid trades first..last-1, two thirds Binance, a third Kraken; returns their message_ids."""
    codec, ids = TradeEncoder(), set()
    p = Producer({"bootstrap.servers": settings.kafka.bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5})
    for i in range(first, last):
        record = trade("binance" if i % 3 else "kraken", i)
        p.produce(settings.topics.trades("binance" if i % 3 else "kraken"), codec.encode(record), key=b"%d" % (i % 5))
        ids.add(record["message_id"])
    assert p.flush(60) == 0
    return ids


def _drain(settings, catalog, *steps: str) -> int:
    """Runs the steps until none has a backlog; returns the number of runs."""
    runs = 0
    while True:
        ranges = [(name, STEPS[name][0](settings, catalog)) for name in steps]
        todo = [(name, rng) for name, rng in ranges if rng]
        if not todo:
            return runs
        for name, rng in todo:
            STEPS[name][1](settings, catalog, rng)
            runs += 1


def _ids(table, snapshot_id=None) -> list[str]:
    return table.scan(snapshot_id=snapshot_id, selected_fields=("message_id",)).to_arrow()["message_id"].to_pylist()


def _compactions_keep_rows(table) -> int:
    """Every compaction snapshot holds exactly its parent's rows; returns how many there are."""
    found = 0
    for snap in table.metadata.snapshots:
        if snap.summary.additional_properties.get(MAINTENANCE_KEY) == "compaction":
            before, after = _ids(table, snap.parent_snapshot_id), _ids(table, snap.snapshot_id)
            assert len(after) == len(before) and set(after) == set(before)
            parent = table.snapshot_by_id(snap.parent_snapshot_id)
            assert snap.summary.additional_properties[OFFSETS_KEY] == parent.summary.additional_properties[OFFSETS_KEY]
            found += 1
    return found


@pytest.mark.slow
def test_maintenance_concurrent_with_drains_loses_nothing_and_expiry_keeps_offsets(settings, catalog):
    settings = _settings(settings)
    ns = settings.catalog.namespace
    expected = _produce(settings, 0, 1200)
    _drain(settings, catalog, "bronze", "refine", "gold")
    gold = load(catalog, ns, "gold_trades")
    files_before = data_totals(gold).files
    assert sorted(_ids(gold)) == sorted(expected) and files_before >= 8

    expected |= _produce(settings, 1200, 1500)
    _drain(settings, catalog, "bronze", "refine")
    # Compaction commits between a drain's read and its commit: the drain re-reads the offsets and retries.
    compacted = []

    def compact_once(_table, _todo, _rows):
        if not compacted:
            compacted.append(compact(load(open_catalog(settings), ns, "gold_trades"), settings.maintenance, attempts=5))

    late = build_gold(settings, catalog, gold_backlog(settings, catalog), guard=compact_once)
    assert compacted[0].files_removed == files_before and (late.committed, late.rows, late.attempts) == (True, 150, 2)

    # A drain commits between compaction's write and its commit: the compaction is retried on the new head.
    drained = []

    def drain_once(_table):
        if not drained:
            drained.append(build_gold(settings, open_catalog(settings), gold_backlog(settings, catalog)))

    outcome = compact(gold, settings.maintenance, attempts=5, before_commit=drain_once)
    assert (outcome.attempts, outcome.conflicts, outcome.files_removed) == (2, 1, 3) and (drained[0].committed, drained[0].rows) == (True, 150)

    # Drains and maintenance in two threads at once.
    expected |= _produce(settings, 1500, 1900)
    errors, done = [], threading.Event()

    def drains():
        try:
            _drain(settings, open_catalog(settings), "bronze", "refine", "gold")
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=drains)
    thread.start()
    passes = 0
    while not done.is_set() or passes == 0:
        maintain_table(
            settings.model_copy(update={"maintenance": settings.maintenance.model_copy(update={"snapshot_max_age_s": 3600})}),
            load(catalog, ns, "gold_trades"),
        )
        passes += 1
    thread.join(60)
    assert not errors, errors
    gold.refresh()
    assert _compactions_keep_rows(gold) >= 3
    assert len(_ids(gold)) == 1900 and set(_ids(gold)) == expected

    # Full maintenance: the head of gold is a compaction, every older snapshot expires, a planted orphan goes.
    orphan = os.path.join(gold.location().removeprefix("file://"), "data", "orphan-from-a-crashed-writer.parquet")
    with open(orphan, "wb") as fh:
        fh.write(b"x" * 1000)
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    stored_before = len(stored_files(gold))
    reports = {r.table.split(".")[-1]: r for r in maintain(settings, catalog)}
    g = reports["gold_trades"]
    assert g.after.data.files == 1 and g.after.data.records == g.before.data.records == 1900  # one hour partition, one file
    assert (g.orphans.files_deleted, g.orphans.bytes_deleted) == (1, 1000) and not os.path.exists(orphan)
    assert g.snapshots_after == 1 and g.expiry.snapshots_expired == g.snapshots_before + (g.compaction.snapshot_id is not None) - 1
    assert g.after.stored_files < stored_before
    gold.refresh()
    head = gold.current_snapshot()
    # The only snapshot left is a compaction: offsets are read from it, no drain's snapshot is left to fall back on.
    assert head.summary.additional_properties[MAINTENANCE_KEY] == "compaction" and [s.snapshot_id for s in gold.snapshots()] == [head.snapshot_id]
    assert sum(flatten(committed(gold)).values()) == 1900
    assert len(_ids(gold)) == 1900 and set(_ids(gold)) == expected
    bronze = load(catalog, ns, "bronze_trades")
    assert reports["bronze_trades"].snapshots_after == 1 and bronze.scan().to_arrow().num_rows == 1900

    # Drains restart on a fresh catalog: only the 200 new records are drained, nothing twice.
    expected |= _produce(settings, 1900, 2100)
    fresh = open_catalog(settings)
    assert bronze_backlog(settings, fresh, cap=False).size == 200
    _drain(settings, fresh, "bronze", "refine", "gold")
    assert load(fresh, ns, "bronze_trades").scan().to_arrow().num_rows == 2100
    assert sum(load(fresh, ns, f"silver_trades_{e}").scan().to_arrow().num_rows for e in ("binance", "kraken")) == 2100
    final = _ids(load(fresh, ns, "gold_trades"))
    assert len(final) == 2100 and set(final) == expected


@pytest.mark.dagster
def test_table_maintenance_asset_reports_files_before_and_after(settings, catalog):
    settings = _settings(settings)
    _produce(settings, 0, 600)
    _drain(settings, catalog, "bronze", "refine", "gold")
    gold_files = data_totals(load(catalog, settings.catalog.namespace, "gold_trades")).files
    result = materialize(maintenance(settings).assets, resources={"k2": K2SettingsResource.of(settings)})
    assert result.success
    meta = result.asset_materializations_for_node("table_maintenance")[0].metadata
    assert meta["gold_trades.data_files_before"].value == gold_files and meta["gold_trades.data_files_after"].value == 1
    assert "| gold_trades |" in meta["tables"].value
    assert load(catalog, settings.catalog.namespace, "gold_trades").scan().to_arrow().num_rows == 600
