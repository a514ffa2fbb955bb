"""Exactly-once commits against a real broker and real pyiceberg tables: races and SIGKILLs."""

import signal
import subprocess
import sys
import threading

import pytest
from pyiceberg.exceptions import CommitFailedException

from k2_platform.lakehouse.backlog import bronze_backlog, gold_backlog, refine_backlog
from k2_platform.lakehouse.bronze import drain_to_bronze
from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import load
from k2_platform_tests.lakehouse.trade_stream import build_stream, produce

pytestmark = pytest.mark.integration


def test_pyiceberg_rebases_conflicting_appends_unless_retries_are_zero(catalog):
    """The DESIGN trap, verified: with retries on, a stale append lands anyway; K2 tables refuse it."""
    table = load(catalog, "market", "bronze_trades")
    with table.transaction() as tx:
        tx.set_properties({"commit.retry.num-retries": "4"})
    a, b = catalog.load_table("market.bronze_trades"), catalog.load_table("market.bronze_trades")
    empty = a.schema().as_arrow().empty_table()
    a.append(empty, snapshot_properties={"k2.offsets": "{}"})
    b.append(empty, snapshot_properties={"k2.offsets": "{}"})  # stale, silently rebased
    assert len(catalog.load_table("market.bronze_trades").snapshots()) == 2
    with catalog.load_table("market.bronze_trades").transaction() as tx:
        tx.set_properties({"commit.retry.num-retries": "0"})
    a, b = catalog.load_table("market.bronze_trades"), catalog.load_table("market.bronze_trades")
    a.append(empty)
    with pytest.raises(CommitFailedException):
        b.append(empty)


def test_two_runs_for_the_same_range_at_once_one_commits_other_writes_nothing(settings, catalog):
    produce(settings, build_stream(settings, 5_000))
    rng = bronze_backlog(settings, catalog)
    barrier, outcomes = threading.Barrier(2), []

    def run():
        cat = open_catalog(settings)
        barrier.wait()
        outcomes.append(drain_to_bronze(settings, cat, rng))

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(o.committed for o in outcomes) == [False, True]
    assert [o.rows for o in outcomes if not o.committed] == [0]
    bronze = load(catalog, "market", "bronze_trades")
    assert bronze.scan().to_arrow().num_rows == rng.size == 5_000
    assert len(bronze.snapshots()) == 1


STEP_SCRIPT = """
import sys
from k2_platform.settings import Settings
from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse import backlog, bronze, refine, gold
settings = Settings.model_validate_json(sys.stdin.read())
cat = open_catalog(settings)
steps = {"bronze": (backlog.bronze_backlog, bronze.drain_to_bronze), "refine": (backlog.refine_backlog, refine.refine),
         "gold": (backlog.gold_backlog, gold.build_gold)}
for name in sys.argv[1:]:
    find, run = steps[name]
    rng = find(settings, cat)
    if rng:
        run(settings, cat, rng)
"""


def _run_steps(settings, steps, kill_point=None) -> int:
    lake = settings.lakehouse.model_copy(update={"fault_kill_point": kill_point, "max_records_per_run": 1_500})
    payload = settings.model_copy(update={"lakehouse": lake}).model_dump_json()
    return subprocess.run([sys.executable, "-c", STEP_SCRIPT, *steps], input=payload, text=True, timeout=120).returncode


@pytest.mark.slow
def test_sigkill_at_every_commit_point_loses_and_duplicates_nothing(settings, catalog):
    stream = build_stream(settings, 6_000)
    produce(settings, stream)
    kills = 0
    for step, upstream in (("bronze", []), ("refine", ["bronze"]), ("gold", ["bronze", "refine"])):
        for point in ("before_write", "after_write", "after_commit"):
            assert _run_steps(settings, upstream) == 0
            assert _run_steps(settings, [step], kill_point=point) == -signal.SIGKILL
            kills += 1
    while any(f(settings, catalog) for f in (bronze_backlog, refine_backlog, gold_backlog)):
        assert _run_steps(settings, ["bronze", "refine", "gold"]) == 0
    assert kills == 9
    bronze = load(catalog, "market", "bronze_trades").scan(selected_fields=("topic", "partition", "offset")).to_arrow()
    assert bronze.num_rows == bronze.group_by(["topic", "partition", "offset"]).aggregate([]).num_rows == 6_000
    silver = sum(load(catalog, "market", f"silver_trades_{e}").scan().to_arrow().num_rows for e in ("binance", "kraken"))
    dlq = load(catalog, "market", "trades_dlq").scan().to_arrow().num_rows
    assert silver + dlq == 6_000
    gold_ids = load(catalog, "market", "gold_trades").scan(selected_fields=("message_id",)).to_arrow()["message_id"].to_pylist()
    assert len(gold_ids) == len(set(gold_ids)) == len(stream.valid_ids)
    assert set(gold_ids) == stream.valid_ids


def test_a_commit_without_offsets_does_not_reset_the_watermark(settings, catalog):
    """Compaction or a hand-run repair commits no k2.offsets: the next drain must continue, not restart."""
    produce(settings, build_stream(settings, 300))
    assert drain_to_bronze(settings, catalog, bronze_backlog(settings, catalog)).rows == 300
    bronze = load(catalog, "market", "bronze_trades")
    bronze.append(bronze.schema().as_arrow().empty_table())  # an unrelated commit: no K2 snapshot properties
    assert not bronze_backlog(settings, catalog)
    produce(settings, build_stream(settings, 30, seed=8))
    outcome = drain_to_bronze(settings, catalog, bronze_backlog(settings, catalog))
    assert (outcome.committed, outcome.rows) == (True, 30)
    positions = load(catalog, "market", "bronze_trades").scan(selected_fields=("topic", "partition", "offset")).to_arrow()
    assert positions.num_rows == positions.group_by(["topic", "partition", "offset"]).aggregate([]).num_rows == 330
