"""Drill: `k2 ingest` killed with SIGKILL at random instants while trades stream, restarted each time.

The replay exchange (`k2 replay-server`) streams a recording at a fast pace to both exchanges'
protocols; ingest is a real `k2 ingest` process. After each kill a new one starts at once and must
resume from what is durably in Kafka. At the end the topics are reconciled against the recording:
every trade exactly once, values exact, no unrepaired gap.

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
from ..errors import StackError
from ..processes import log_tail
from .children import ReplayExchange, k2_env, start_k2
from .reconcile import Reconciliation, TradeCount, reconcile

# Every exchange streams every recorded symbol (the replay serves the recorded BTCUSDT as Kraken's BTC/USDT too).
DEFAULT_EXCHANGES = ("binance", "kraken")
_POLL_S = 0.05
NAME = "ingest-kill"
HELP = "SIGKILL `k2 ingest` at random instants while trades stream, restart it, reconcile Kafka against the recording"


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
    parser.add_argument("--speed", type=float, default=40.0, help="replay pace, times the recorded one (default 40: ~1,200 trades/s per exchange)")
    parser.add_argument("--seed", type=int, help="seed of the random kill instants (default: random, printed)")
    parser.add_argument("--exchange", default=",".join(DEFAULT_EXCHANGES), help="comma-separated exchanges (default binance,kraken)")


def scenario(args, settings: Settings, recordings: list[Path], work_dir: Path, progress: Callable[[str], None]) -> DrillResult:
    exchanges = tuple(e.strip() for e in args.exchange.split(",") if e.strip())
    return run_ingest_kill(settings, recordings, work_dir, kills=args.kills, speed=args.speed, seed=args.seed, exchanges=exchanges, progress=progress)


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
    """Kill `k2 ingest` `kills` times, each after a random uniform(*run_s) seconds of producing, then reconcile."""
    seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    by_symbol = load_recordings(recordings)
    result = DrillResult(seed, len(exchanges) * sum(map(len, by_symbol.values())))
    env = k2_env(settings)
    deadline = time.monotonic() + timeout_s
    counter = TradeCount(settings, list(exchanges))
    try:
        with ReplayExchange(recordings, speed, env, work_dir / "replay-server.log") as replay:
            args = ["ingest", "--exchange", ",".join(exchanges), "--symbols", ",".join(by_symbol), "--replay", replay.url]
            for run in range(kills + 1):
                log_file = work_dir / f"ingest-{run}.log"
                before, started = counter.now(), time.monotonic()
                proc = start_k2(args, env, log_file)
                try:
                    recovery = _until_growth(counter, before, proc, log_file, deadline, complete=result.expected_records)
                    if result.kills:
                        result.kills[-1].recovery_s = None if recovery is None else recovery - started
                    if run < kills:
                        result.kills.append(_kill(proc, counter, rng.uniform(*run_s), result.expected_records))
                        k = result.kills[-1]
                        progress(f"kill {run + 1}/{kills}: SIGKILL after {k.ran_s:.2f}s of trading, {k.trades_at_kill:,} trades in Kafka")
                    else:
                        _finish(proc, counter, log_file, result.expected_records, deadline)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
    finally:
        counter.close()
    result.reconciliations = [reconcile(settings, exchange, by_symbol) for exchange in exchanges]
    return result


def _until_growth(counter: TradeCount, before: int, proc: subprocess.Popen, log_file: Path, deadline: float, complete: int) -> float | None:
    """When Kafka first holds more trades than `before` (None when it already held every trade: nothing left to send)."""
    while time.monotonic() < deadline:
        if counter.now() > before:
            return time.monotonic()
        if before >= complete:
            return None
        if proc.poll() is not None:
            raise StackError(f"k2 ingest exited with {proc.returncode} before producing: {log_tail(log_file)}")
        time.sleep(_POLL_S)
    raise StackError(f"k2 ingest produced nothing before the drill's timeout: {log_tail(log_file)}")


def _kill(proc: subprocess.Popen, counter: TradeCount, after_s: float, complete: int) -> Kill:
    time.sleep(after_s)
    proc.kill()  # SIGKILL: no flush, no close handshake, in-flight frames and produce requests are lost with the process
    proc.wait()
    in_kafka = counter.now()
    return Kill(after_s, in_kafka, in_kafka < complete)


def _finish(proc: subprocess.Popen, counter: TradeCount, log_file: Path, complete: int, deadline: float, quiet_s: float = 2.0) -> None:
    """Let the last process run until every trade can be in Kafka and nothing more arrives, then stop it cleanly."""
    last, last_change = counter.now(), time.monotonic()
    while time.monotonic() < deadline and (last < complete or time.monotonic() - last_change < quiet_s):
        if proc.poll() is not None:
            raise StackError(f"k2 ingest exited with {proc.returncode}: {log_tail(log_file)}")
        time.sleep(_POLL_S)
        now = counter.now()
        if now != last:
            last, last_change = now, time.monotonic()
    proc.terminate()
    if proc.wait(timeout=60) != 0:
        raise StackError(f"k2 ingest stopped with exit code {proc.returncode}: {log_tail(log_file)}")
