"""A drain run as its own process (`python -m k2_platform.ops.chaos.drain_worker STEP...`), so a drill can SIGKILL it.

The settings come as JSON on stdin. Each step (bronze, refine, gold) finds its backlog and drains it
with the real medallion functions; one JSON line per table commit goes to stdout, and the last line
holds the process's peak RSS. A failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ...lakehouse import backlog, bronze, gold, refine
from ...lakehouse.catalog import open_catalog
from ...lakehouse.tables import ensure_all_tables
from ...settings import Settings
from ..memory import peak_rss_mb

STEPS = {
    "bronze": (backlog.bronze_backlog, bronze.drain_to_bronze),
    "refine": (backlog.refine_backlog, refine.refine),
    "gold": (backlog.gold_backlog, gold.build_gold),
}


def _emit(**line) -> None:
    print(json.dumps(line), flush=True)


def run_step(settings: Settings, catalog, step: str, start_at: float | None = None) -> bool:
    """One run of the step over its next range (start_at: hold the found range until then, to race another run)."""
    find, drain = STEPS[step]
    rng = find(settings, catalog)
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    if not rng:
        return False
    outcome = drain(settings, catalog, rng)
    if isinstance(outcome, dict):  # refine: one commit per target table, each over its topics' share of the range
        topics = refine.target_topics(settings)
        parts = {o.table: (o, rng.only(topics[name]).size) for name, o in outcome.items()}
    else:
        parts = {outcome.table: (outcome, rng.size)}
    for table, (o, records) in parts.items():
        _emit(step=step, table=table, committed=o.committed, rows=o.rows, range_records=records, attempts=o.attempts, note=o.note)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drain_worker")
    parser.add_argument("steps", nargs="*", choices=sorted(STEPS))
    parser.add_argument("--until-empty", action="store_true", help="repeat the steps until none has a backlog")
    parser.add_argument("--armed", help="the step whose commit carries the settings' fault_kill_point (others run unarmed)")
    parser.add_argument("--start-at", type=float, help="epoch seconds: every step holds its range until then")
    args = parser.parse_args(argv)
    armed = Settings.model_validate_json(sys.stdin.read())
    unarmed = armed.model_copy(update={"lakehouse": armed.lakehouse.model_copy(update={"fault_kill_point": None})})
    try:
        catalog = open_catalog(unarmed)
        ensure_all_tables(catalog, unarmed.catalog.namespace)
        while True:
            worked = [run_step(armed if step == args.armed else unarmed, catalog, step, args.start_at) for step in args.steps]
            if not (args.until_empty and any(worked)):
                break
    except Exception as exc:  # noqa: BLE001 - the drill records the reason; the process must not hide it in a traceback
        print(f"drain failed: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}", file=sys.stderr, flush=True)
        return 1
    _emit(peak_rss_mb=peak_rss_mb())
    return 0


if __name__ == "__main__":
    sys.exit(main())
