"""Prometheus metrics of drain runs (and of anything else that runs as a short-lived Dagster run).

Why a file and not a Pushgateway or node_exporter's textfile collector: a drain run is a short process (often
several at once, scale-out), so its counters must outlive it and add up across runs. Each run adds its figures
to one JSON file in the state directory under an exclusive file lock (totals stay exact with concurrent runs,
survive restarts of every process, and need nothing installed); `k2 metrics` (ops/metrics_exporter.py, started
by `k2 up --with-monitoring`) serves the file on every scrape next to what it computes live from Kafka
watermarks and snapshot summaries. A Pushgateway would be one more daemon to run and, per Prometheus's own
guidance, replaces rather than adds the pushed values of a group.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from ..settings import Settings

ROWS = "k2_drain_rows"  # counter: rows committed by drain runs, per table (`_total` added on exposition)
RUNS = "k2_drain_commits"  # counter: commits per table and outcome (committed / skipped: range already in the table)
COMMIT_SECONDS = "k2_drain_commit_seconds"  # histogram: the catalog commit alone, per table
COMMIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def metrics_file(settings: Settings) -> Path:
    return settings.monitoring_dir / "drain-metrics.json"


@contextmanager
def _locked(settings: Settings):
    """The stored figures, exclusively locked; what the block leaves in the dict is written back atomically."""
    path = metrics_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = read(settings)
        yield state
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, sort_keys=True))
        tmp.replace(path)  # a reader never sees a half-written file


def read(settings: Settings) -> dict:
    try:
        return json.loads(metrics_file(settings).read_text())
    except FileNotFoundError:
        return {}


def record_commit(settings: Settings, table: str, rows: int, committed: bool, commit_s: float) -> None:
    with _locked(settings) as state:
        state.setdefault(ROWS, {})[table] = state.get(ROWS, {}).get(table, 0) + rows
        runs = state.setdefault(RUNS, {}).setdefault(table, {})
        outcome = "committed" if committed else "skipped"
        runs[outcome] = runs.get(outcome, 0) + 1
        if committed:
            histogram = state.setdefault(COMMIT_SECONDS, {}).setdefault(table, {"buckets": [0] * len(COMMIT_BUCKETS), "sum": 0.0, "count": 0})
            for i, bound in enumerate(COMMIT_BUCKETS):
                histogram["buckets"][i] += commit_s <= bound
            histogram["sum"] += commit_s
            histogram["count"] += 1
