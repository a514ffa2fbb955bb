"""Drill: two drain processes racing on one range, step by step.

Both processes find the same backlog, hold it until the same instant, then drain it. The tables'
compare-and-set commits must let exactly one of them commit each table's share of the range; the
other commits nothing (it sees the range already committed, or loses the commit and re-reads).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ...settings import Settings
from .lake_drill import ALL_STEPS, drain_until_empty, finish_drain, lake_settings, reconcile_gold, start_drain
from .result import ChaosResult
from .source import SourceProducer

NAME = "drain-race"
HELP = "two drain processes race on the same range of each step: exactly one commits, gold is exact"
_LEAD_S = 4.0  # both processes start, import and find their range within this; then they drain at once


def add_arguments(parser) -> None:
    parser.add_argument("--rounds", type=int, default=3, help="races per step (default 3)")
    parser.add_argument("--trades", type=int, default=20_000, help="trades produced before each round (default 20,000)")


def scenario(args, drill: Settings, recordings, work: Path, progress: Callable[[str], None]) -> ChaosResult:
    return drain_race(drill, work, args.rounds, args.trades, progress)


def drain_race(
    settings: Settings, work: Path, rounds: int = 3, trades_per_round: int = 20_000, progress: Callable[[str], None] = print
) -> ChaosResult:
    lake = lake_settings(settings, work)
    logs = work / "drains"
    races, recoveries = [], []
    with SourceProducer(lake) as producer:
        for r in range(rounds):
            producer.produce(range(r * trades_per_round, (r + 1) * trades_per_round))
            producer.producer.flush(60)
            for step in ALL_STEPS:
                start_at = time.time() + _LEAD_S
                runs = [finish_drain(w) for w in [start_drain(lake, [step], logs, start_at=start_at) for _ in range(2)]]
                races.append(_verdict(step, r, runs))
                progress(f"{NAME}: round {r + 1} {step}: {races[-1]['winners']}")
            recovery_s, _failures = drain_until_empty(lake, logs)  # nothing left: both runs together drained the round
            recoveries.append(recovery_s)
    return reconcile_gold(NAME, lake, producer.source, max(recoveries), ok=all(race["exact"] for race in races), races=races)


def _verdict(step: str, round_: int, runs) -> dict:
    """Per table: how many runs committed (exactly one for a share with records, none for an empty one) and what the other wrote."""
    by_table = defaultdict(list)
    for run in runs:
        for commit in run.commits:
            by_table[commit["table"]].append(commit)
    winners = {table: sum(c["committed"] for c in commits) for table, commits in by_table.items()}
    loser_rows = sum(c["rows"] for commits in by_table.values() for c in commits if not c["committed"])
    expected = {table: int(max(c["range_records"] for c in commits) > 0) for table, commits in by_table.items()}
    exact = all(r.returncode == 0 for r in runs) and winners == expected and loser_rows == 0 and bool(by_table)
    return {"step": step, "round": round_, "winners": winners, "loser_rows": loser_rows, "exact": exact, "errors": [r.error for r in runs if r.error]}
