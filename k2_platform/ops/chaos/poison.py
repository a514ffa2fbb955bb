"""Drill: the exchange mixes malformed frames and bad values (truncated JSON, unknown symbol, non-numeric
price, negative quantity, a price beyond decimal(38,18)) into the stream. Each must land in trades_dlq
with a reason, exactly as many as the exchange sent, and every good trade in gold."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...ingest.recording import load_recordings
from ...settings import Settings
from .feed import add_feed_arguments, exchanges_of, gold_result, run_feed
from .result import ChaosResult

NAME = "poison"
HELP = "malformed frames and bad values in the stream: every one in trades_dlq with a reason, every good trade in gold"


def add_arguments(parser) -> None:
    parser.add_argument("--every", type=int, default=200, help="a malformed frame every this many messages (default 200)")
    add_feed_arguments(parser, 40.0, "")


def scenario(args, settings: Settings, recordings: list[Path], work_dir: Path, progress: Callable[[str], None]) -> ChaosResult:
    exchanges, by_symbol = exchanges_of(args), load_recordings(recordings)
    feed = run_feed(settings, recordings, work_dir, exchanges, by_symbol, args.speed, ("--malformed-every", str(args.every)))
    progress(f"{NAME}: {feed.malformed} malformed frames sent")
    return gold_result(
        NAME,
        settings,
        exchanges,
        by_symbol,
        feed.max_stall_s,
        {"poison_sent": feed.malformed},
        lambda _recs, dlq: {"every_poison_in_dlq": len(dlq) == feed.malformed > 0},
        progress,
    )
