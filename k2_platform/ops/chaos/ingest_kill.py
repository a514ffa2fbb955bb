"""Drill: `k2 ingest` killed with SIGKILL at random instants while trades stream, restarted each time.

The replay exchange (`k2 replay-server`) streams a recording at a fast pace to both exchanges'
protocols; ingest is a real `k2 ingest` process. After each kill a new one starts at once and must
resume from what is durably in Kafka. At the end the topics are reconciled against the recording
(every trade exactly once, values exact, no unrepaired gap), then drained to gold and gold is too.

Recovery time is measured from the restart until Kafka grows again: process start, the read-back
of each symbol's newest trade, and the REST catch-up of what the killed process never delivered.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...ingest.recording import load_recordings
from ...settings import Settings
from .children import ReplayExchange, k2_env, start_k2
from .feed import DEFAULT_EXCHANGES, add_feed_arguments, exchanges_of, finish, gold_result, ingest_args, stop, until_growth
from .reconcile import Reconciliation, TradeCount, reconcile
from .result import ChaosResult

NAME = "ingest-kill"
HELP = "SIGKILL `k2 ingest` at random instants while trades stream, restart it, reconcile Kafka and gold against the recording"


@dataclass
class Kill:
    ran_s: float  # how long the killed process had been producing
    trades_at_kill: int  # trade records in Kafka right after the kill
    mid_stream: bool  # the replay still had trades to send
    recovery_s: float | None = None  # its successor's restart -> Kafka growing again (None: nothing was left to send)


@dataclass
class DrillResult:
    seed: int
    expected_records: int
    kills: list[Kill] = field(default_factory=list)
    reconciliations: list[Reconciliation] = field(default_factory=list)

    @property
    def recoveries(self) -> list[float]:
        return [k.recovery_s for k in self.kills if k.recovery_s is not None]

    @property
    def max_recovery_s(self) -> float:
        return max(self.recoveries, default=0.0)


def add_arguments(parser) -> None:
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs in one run (default 5)")
    add_feed_arguments(parser, 40.0, ": ~1,200 trades/s per exchange")
    parser.add_argument("--seed", type=int, help="seed of the random kill instants (default: random, printed)")


def scenario(args, settings: Settings, recordings: list[Path], work_dir: Path, progress: Callable[[str], None]) -> ChaosResult:
    exchanges = exchanges_of(args)
    drill = run_ingest_kill(
        settings, recordings, work_dir, kills=args.kills, speed=args.speed, seed=args.seed, exchanges=exchanges, progress=progress
    )
    rows = drill.reconciliations
    progress(f"{NAME} (seed {drill.seed}): {len(drill.kills)} kills, recovery " + ", ".join(f"{r:.2f}s" for r in drill.recoveries))
    kafka = {
        "seed": drill.seed,
        "kills": len(drill.kills),
        "recoveries_s": [round(r, 3) for r in drill.recoveries],
        "in_kafka": sum(r.in_kafka for r in rows),
        "kafka_lost": sum(r.lost for r in rows),
        "kafka_duplicated": sum(r.duplicated for r in rows),
        "kafka_wrong_values": sum(r.wrong_values for r in rows),
    }
    return gold_result(
        NAME,
        settings,
        exchanges,
        load_recordings(recordings),
        drill.max_recovery_s,
        kafka,
        lambda _recs, _dlq: {"killed": len(drill.kills) > 0, "kafka_exact": all(r.exact for r in rows)},
        progress,
    )


def run_ingest_kill(
    settings: Settings,
    recordings: list[Path],
    work_dir: Path,
    kills: int = 5,
    speed: float = 40.0,
    seed: int | None = None,
    exchanges: tuple[str, ...] = DEFAULT_EXCHANGES,
    run_s: tuple[float, float] = (0.3, 2.0),
    timeout_s: float = 300.0,
    progress: Callable[[str], None] = print,
) -> DrillResult:
    """Kill `k2 ingest` `kills` times, each after a random uniform(*run_s) seconds of producing, then reconcile Kafka."""
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    by_symbol = load_recordings(recordings)
    result = DrillResult(seed, len(exchanges) * sum(map(len, by_symbol.values())))
    env = k2_env(settings)
    deadline = time.monotonic() + timeout_s
    counter = TradeCount(settings, list(exchanges))
    try:
        with ReplayExchange(recordings, speed, env, work_dir / "replay-server.log") as replay:
            for run in range(kills + 1):
                log_file = work_dir / f"ingest-{run}.log"
                before, started = counter.now(), time.monotonic()
                proc = start_k2(ingest_args(exchanges, by_symbol, replay.url), env, log_file)
                try:
                    recovery = until_growth(counter, before, proc, log_file, deadline, complete=result.expected_records)
                    if result.kills:
                        result.kills[-1].recovery_s = None if recovery is None else recovery - started
                    if run < kills:
                        result.kills.append(_kill(proc, counter, rng.uniform(*run_s), result.expected_records))
                        k = result.kills[-1]
                        progress(f"kill {run + 1}/{kills}: SIGKILL after {k.ran_s:.2f}s of trading, {k.trades_at_kill:,} trades in Kafka")
                    else:
                        finish(proc, counter, log_file, result.expected_records, deadline)
                finally:
                    stop(proc)
    finally:
        counter.close()
    result.reconciliations = [reconcile(settings, exchange, by_symbol) for exchange in exchanges]
    return result


def _kill(proc: subprocess.Popen, counter: TradeCount, after_s: float, complete: int) -> Kill:
    time.sleep(after_s)
    proc.kill()  # SIGKILL: no flush, no close handshake, in-flight frames and produce requests are lost with the process
    proc.wait()
    in_kafka = counter.now()
    return Kill(after_s, in_kafka, in_kafka < complete)
