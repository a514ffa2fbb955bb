"""What the feed-side drills share: the replay exchange and `k2 ingest` as real processes, waiting on Kafka,
and the ending every drill has: the medallion drains Kafka to gold, and gold is reconciled against the recording."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...ingest.recording import RecordedTrade
from ...settings import Settings
from ..errors import StackError
from ..processes import log_tail
from .children import ReplayExchange, k2_env, start_k2
from .gold_reconcile import GoldReconciliation, dlq_rows, reconcile_gold
from .medallion import drain_to_gold, medallion_catalog
from .reconcile import TradeCount
from .result import ChaosResult, Row

# Every exchange streams every recorded symbol (the replay serves the recorded BTCUSDT as Kraken's BTC/USDT too).
DEFAULT_EXCHANGES = ("binance", "kraken")
_POLL_S = 0.05


def add_feed_arguments(parser, speed: float, speed_help: str) -> None:
    parser.add_argument("--speed", type=float, default=speed, help=f"replay pace, times the recorded one (default {speed:g}{speed_help})")
    parser.add_argument("--exchange", default=",".join(DEFAULT_EXCHANGES), help="comma-separated exchanges (default binance,kraken)")


def exchanges_of(args) -> tuple[str, ...]:
    return tuple(e.strip() for e in args.exchange.split(",") if e.strip())


def ingest_args(exchanges: tuple[str, ...], by_symbol: dict[str, list[RecordedTrade]], url: str) -> list[str]:
    return ["ingest", "--exchange", ",".join(exchanges), "--symbols", ",".join(by_symbol), "--replay", url]


def until_growth(counter: TradeCount, before: int, proc: subprocess.Popen, log_file: Path, deadline: float, complete: int) -> float | None:
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


def finish(proc: subprocess.Popen, counter: TradeCount, log_file: Path, complete: int, deadline: float, quiet_s: float = 2.0) -> float:
    """Let the process run until every trade can be in Kafka and nothing more arrives, then stop it cleanly.

    Trades still missing at the deadline are left for the reconciliation to count as lost.
    Returns the longest stall: seconds without a new trade in Kafka while trades were still missing
    (a reconnect, a REST catch-up; at a fast replay pace the recording's own pauses are milliseconds).
    """
    last, last_change, stall = counter.now(), time.monotonic(), 0.0
    while time.monotonic() < deadline and (last < complete or time.monotonic() - last_change < quiet_s):
        if proc.poll() is not None:
            raise StackError(f"k2 ingest exited with {proc.returncode}: {log_tail(log_file)}")
        time.sleep(_POLL_S)
        now = counter.now()
        if now != last:
            if last < complete:
                stall = max(stall, time.monotonic() - last_change)
            last, last_change = now, time.monotonic()
    proc.terminate()
    if proc.wait(timeout=60) != 0:
        raise StackError(f"k2 ingest stopped with exit code {proc.returncode}: {log_tail(log_file)}")
    return stall


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@dataclass
class FeedRun:
    """One uninterrupted `k2 ingest` against a replay exchange with fault flags."""

    connections: int  # WebSocket connections the exchange served
    malformed: int  # malformed frames it sent
    max_stall_s: float


def run_feed(
    settings: Settings,
    recordings: list[Path],
    work_dir: Path,
    exchanges: tuple[str, ...],
    by_symbol: dict[str, list[RecordedTrade]],
    speed: float,
    faults: tuple[str, ...],
    timeout_s: float = 300.0,
) -> FeedRun:
    """Stream the whole recording through `k2 ingest` once, the exchange injecting `faults` (replay-server flags)."""
    env, deadline = k2_env(settings), time.monotonic() + timeout_s
    complete = len(exchanges) * sum(map(len, by_symbol.values()))
    counter = TradeCount(settings, list(exchanges))
    replay = ReplayExchange(recordings, speed, env, work_dir / "replay-server.log", faults=faults)
    try:
        with replay:
            log_file = work_dir / "ingest.log"
            proc = start_k2(ingest_args(exchanges, by_symbol, replay.url), env, log_file)
            try:
                until_growth(counter, 0, proc, log_file, deadline, complete)
                stall = finish(proc, counter, log_file, complete, deadline)
            finally:
                stop(proc)
    finally:
        counter.close()
    connections, malformed = replay.stopped_stats()
    return FeedRun(connections, malformed, stall)


def gold_result(
    name: str,
    settings: Settings,
    exchanges: tuple[str, ...],
    by_symbol: dict[str, list[RecordedTrade]],
    max_recovery_s: float,
    details: dict,
    checks: Callable[[list[GoldReconciliation], list[dict]], dict[str, bool]],
    progress: Callable[[str], None],
) -> ChaosResult:
    """Drain Kafka to gold, reconcile; `checks(reconciliations, dlq rows)` adds the scenario's own named conditions."""
    catalog = medallion_catalog(settings)
    runs, drain_s = drain_to_gold(settings, catalog)
    progress(f"{name}: drained Kafka to gold in {runs} step runs, {drain_s:.1f}s")
    recs = reconcile_gold(settings, catalog, exchanges, by_symbol)
    dlq = dlq_rows(settings, catalog)
    own = checks(recs, dlq)
    details = {
        **details,
        "drain_runs": runs,
        "drain_s": round(drain_s, 3),
        "wrong_values": sum(r.wrong_values for r in recs),
        "unexpected": sum(r.unexpected for r in recs),
        "unrepaired_gaps": sum(r.unrepaired_gaps for r in recs),
        "repaired_from_rest": sum(r.repaired_from_rest for r in recs),
        "unexplained_lost": sum(r.unexplained_lost for r in recs),
        "dlq_rows": len(dlq),
        "dlq_without_reason": sum(not (d["reason"] or "").strip() for d in dlq),
        "checks": own,
    }
    if any(r.lost_ids for r in recs):
        details["first_lost"] = {r.exchange: [list(k) for k in r.lost_ids] for r in recs if r.lost_ids}
    passed = all(r.exact for r in recs) and details["dlq_without_reason"] == 0 and all(own.values())
    return ChaosResult(
        name=name,
        sent=sum(r.sent for r in recs),
        in_gold=sum(r.in_gold for r in recs),
        lost=sum(r.lost for r in recs),
        duplicated=sum(r.duplicated for r in recs),
        max_recovery_s=max_recovery_s,
        passed=passed,
        details=details,
        rows=[Row(r.exchange, r.sent, r.in_gold, r.lost, r.duplicated) for r in recs],
    )
