"""Drill: drain runs killed with SIGKILL at every commit point of every step, and at random instants.

Each kill is a real drain process dying: at before_write / after_write / after_commit of bronze,
refine and gold (lakehouse/faults.py), and at a random moment of a run over fresh trades. After
each kill the drains restart without the fault until no step has a backlog (its recovery time);
then gold must hold every produced trade exactly once, decimals exact.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from ...lakehouse.faults import KILL_POINTS
from ...settings import Settings
from .lake_drill import ALL_STEPS, drain_until_empty, finish_drain, lake_settings, reconcile_gold, run_drain, start_drain
from .result import ChaosResult
from .source import SourceProducer

NAME = "drain-kill"
HELP = "SIGKILL drain runs at every commit point and at random instants, restart them, reconcile gold against the source"


def add_arguments(parser) -> None:
    parser.add_argument("--count", type=int, default=5, help="random-instant SIGKILLs besides the 9 commit points (default 5)")
    parser.add_argument("--trades", type=int, default=20_000, help="trades produced before each kill (default 20,000)")
    parser.add_argument("--seed", type=int, help="seed of the random kill instants (default: random, in the details)")


def scenario(args, drill: Settings, recordings, work: Path, progress: Callable[[str], None]) -> ChaosResult:
    return drain_kill(drill, work, args.count, args.trades, args.seed, progress)


def drain_kill(
    settings: Settings,
    work: Path,
    random_kills: int = 5,
    trades_per_kill: int = 20_000,
    seed: int | None = None,
    progress: Callable[[str], None] = print,
    kill_window_s: tuple[float, float] = (1.0, 4.0),
) -> ChaosResult:
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    # Several runs per backlog, so a kill lands between commits of one drain, not only before the first.
    lake = lake_settings(settings, work, max_records_per_run=max(1, trades_per_kill // 3))
    logs = work / "drains"
    kills, recoveries, next_trade = [], [], 0
    with SourceProducer(lake) as producer:

        def fresh_trades() -> None:
            nonlocal next_trade
            producer.produce(range(next_trade, next_trade + trades_per_kill))
            producer.producer.flush(60)
            next_trade += trades_per_kill

        plan = [(step, point) for step in ALL_STEPS for point in KILL_POINTS] + [("random", None)] * random_kills
        for step, point in plan:
            fresh_trades()
            if point is not None:  # the step before it runs clean, so the armed step has its input
                outcome = run_drain(lake, ALL_STEPS[: ALL_STEPS.index(step) + 1], logs, armed=step, kill_point=point)
                at = f"{step} {point}"
            else:
                worker = start_drain(lake, ALL_STEPS, logs, until_empty=True)
                after = rng.uniform(*kill_window_s)
                time.sleep(after)
                worker.kill()
                outcome = finish_drain(worker)
                at = f"random instant {after:.2f}s into a run"
            recovery_s, failures = drain_until_empty(lake, logs)
            kills.append(
                {
                    "at": at,
                    "killed": outcome.killed,
                    "commits_before_kill": sum(c["committed"] for c in outcome.commits),
                    "recovery_s": round(recovery_s, 3),
                    "failed_restarts": failures,
                }
            )
            recoveries.append(recovery_s)
            progress(f"{NAME}: {at}: {'SIGKILLed' if outcome.killed else 'finished before the kill'}, recovered in {recovery_s:.1f}s")
    # Every commit-point kill must really have killed its run; a random one may come after the run ended.
    armed_kills = kills[: len(ALL_STEPS) * len(KILL_POINTS)]
    return reconcile_gold(
        NAME,
        lake,
        producer.source,
        max(recoveries),
        ok=all(k["killed"] for k in armed_kills),
        seed=seed,
        kills=kills,
        sigkills=sum(k["killed"] for k in kills),
    )
