"""Drill (s3 profile): the catalog and object store (SeaweedFS) stopped mid-drain for a while, then started
again on the same state directory. Drains fail meanwhile with a one-line reason and commit nothing half;
once it is back they catch up. The drill runs its own SeaweedFS on free ports: the user's is never stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ...settings import Settings
from ..processes import free_port
from ..seaweedfs import PORT_FIELDS, SeaweedFS
from .drain_loop import DrainLoop
from .lake_drill import drain_until_empty, lake_settings, reconcile_gold
from .result import ChaosResult
from .source import SourceProducer

NAME = "catalog-outage"
HELP = "stop the s3 profile's catalog and object store (SeaweedFS) mid-drain for a while, restart it, reconcile gold"


def add_arguments(parser) -> None:
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds SeaweedFS stays stopped (default 60)")
    parser.add_argument("--trades", type=int, default=100_000, help="trades produced around the outage (default 100,000)")


def scenario(args, drill: Settings, recordings, work: Path, progress: Callable[[str], None]) -> ChaosResult:
    return catalog_outage(drill, work, args.trades, args.seconds, progress)


def s3_lake(settings: Settings, work: Path) -> Settings:
    """The drill's lakehouse on the s3 profile, its SeaweedFS on free loopback ports."""
    ports: dict[str, int] = {}
    while len(set(ports.values())) < len(PORT_FIELDS):
        ports = {name: free_port() for name in PORT_FIELDS}
    lake = lake_settings(settings, work)
    return lake.model_copy(update={"catalog": lake.catalog.model_copy(update={"profile": "s3", **ports})})


def catalog_outage(
    settings: Settings,
    work: Path,
    trades: int = 100_000,
    outage_s: float = 60.0,
    progress: Callable[[str], None] = print,
    first_drain_timeout_s: float = 120.0,
    in_run_s: float = 2.5,
) -> ChaosResult:
    lake = s3_lake(settings, work)
    seaweed = SeaweedFS(lake)
    progress(f"{NAME}: {seaweed.start(progress=lambda _m: None)}")
    try:
        with SourceProducer(lake) as producer:
            producer.produce(range(trades // 2))
            producer.producer.flush(60)
            with DrainLoop(lake, work / "drains") as drains:
                deadline = time.monotonic() + first_drain_timeout_s
                while drains.successes == 0 and time.monotonic() < deadline:
                    time.sleep(0.1)
                producer.produce(range(trades // 2, trades))  # the next run drains these when the store goes away
                producer.producer.flush(60)
                started = drains.started
                while drains.started == started:
                    time.sleep(0.05)
                time.sleep(in_run_s)  # the run has imported, opened the catalog and is reading or committing
                progress(f"{NAME}: {seaweed.stop()} for {outage_s:.0f}s while drains run")
                time.sleep(outage_s)
                # A run still talking to the stopped store would hold its sockets (and with them the ports) open.
                drains.pause()
                failed_during = list(drains.failures)
                progress(f"{NAME}: {seaweed.start(progress=lambda _m: None)}")
                back = time.monotonic()
        drain_until_empty(lake, work / "drains")
        recovery_s = time.monotonic() - back  # the store is back -> no backlog left
        return reconcile_gold(
            NAME,
            lake,
            producer.source,
            recovery_s,
            ok=bool(failed_during),
            outage_s=outage_s,
            failed_drains=len(failed_during),
            failure_reasons=sorted(set(failed_during))[:5],
        )
    finally:
        seaweed.stop()
