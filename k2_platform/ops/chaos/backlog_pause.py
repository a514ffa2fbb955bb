"""Drill: drains paused while trades keep coming, until the backlog holds `--backlog-trades` messages;
then one drain process catches up, within the memory limit (its own peak RSS, VmHWM)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ...settings import Settings
from .lake_drill import ALL_STEPS, MEMORY_LIMIT_MB, lake_settings, reconcile_gold, run_drain
from .result import ChaosResult
from .source import SourceProducer

NAME = "backlog"
HELP = "pause the drains until >= 1M messages wait in Kafka, then drain them within the memory limit and reconcile"


def add_arguments(parser) -> None:
    parser.add_argument("--trades", type=int, default=1_000_000, help="messages in the backlog (default 1,000,000)")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_LIMIT_MB, help="peak RSS allowed to the draining process")


def scenario(args, drill: Settings, recordings, work: Path, progress: Callable[[str], None]) -> ChaosResult:
    return backlog(drill, work, args.trades, args.memory_mb, progress)


def backlog(
    settings: Settings, work: Path, trades: int = 1_000_000, memory_mb: int = MEMORY_LIMIT_MB, progress: Callable[[str], None] = print
) -> ChaosResult:
    lake = lake_settings(settings, work)
    started = time.monotonic()
    with SourceProducer(lake) as producer:
        producer.produce(range(trades))
    progress(f"{NAME}: {trades:,} messages waiting in Kafka after {time.monotonic() - started:.1f}s of producing with drains paused")
    started = time.monotonic()  # the pause ends: the drains resume
    drained = run_drain(lake, ALL_STEPS, work / "drains", until_empty=True)
    recovery_s = time.monotonic() - started
    peak = drained.peak_rss_mb or 0.0
    progress(f"{NAME}: backlog drained in {recovery_s:.1f}s, peak RSS {peak:.0f} MB (limit {memory_mb} MB)")
    ok = drained.returncode == 0 and 0 < peak <= memory_mb
    return reconcile_gold(
        NAME,
        lake,
        producer.source,
        recovery_s,
        ok=ok,
        backlog_messages=trades,
        peak_rss_mb=round(peak, 1),
        memory_limit_mb=memory_mb,
        drain_runs=sum(c["committed"] for c in drained.commits if c["table"].endswith("gold_trades")),
        error=drained.error,
    )
