"""Drill: the exchange drops the connection every N messages and, after each reconnect, sends again trades
the feed already has. Ingest reconnects, asks REST for what fell between, and drops the resends by message_id."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...ingest.recording import load_recordings
from ...settings import Settings
from .feed import add_feed_arguments, exchanges_of, gold_result, run_feed
from .result import ChaosResult

NAME = "disconnects"
HELP = "the exchange disconnects every N messages and resends trades after each reconnect; reconcile gold against the recording"


def add_arguments(parser) -> None:
    parser.add_argument("--every", type=int, default=3000, help="close each connection after this many messages (default 3000)")
    parser.add_argument("--count", type=int, default=4, help="forced disconnects in total, over all connections (default 4)")
    parser.add_argument("--resend", type=int, default=200, help="trades sent again after each reconnect (default 200)")
    add_feed_arguments(parser, 40.0, "")


def scenario(args, settings: Settings, recordings: list[Path], work_dir: Path, progress: Callable[[str], None]) -> ChaosResult:
    exchanges, by_symbol = exchanges_of(args), load_recordings(recordings)
    faults = ("--disconnect-after", str(args.every), "--disconnects", str(args.count), "--resend", str(args.resend))
    feed = run_feed(settings, recordings, work_dir, exchanges, by_symbol, args.speed, faults)
    progress(f"{NAME}: {feed.connections} connections for {len(exchanges)} feeds, longest stall {feed.max_stall_s:.2f}s")
    # Every forced disconnect costs one reconnect; any more would be the feed failing on its own.
    reconnects = feed.connections - len(exchanges)
    return gold_result(
        NAME,
        settings,
        exchanges,
        by_symbol,
        feed.max_stall_s,
        {"reconnects": reconnects},
        lambda _recs, _dlq: {"every_disconnect_reconnected": reconnects == args.count},
        progress,
    )
