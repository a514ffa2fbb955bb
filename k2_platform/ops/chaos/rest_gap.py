"""Drill: the exchange never sends a range of trade ids on the WebSocket (its REST history has them).
Ingest must see the gap, fill it from REST, and record it in feed_gaps as repaired, for every exchange."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...ingest.recording import load_recordings
from ...settings import Settings
from .feed import add_feed_arguments, exchanges_of, gold_result, run_feed
from .result import ChaosResult

NAME = "rest-gap"
HELP = "the exchange skips a trade-id range on the WebSocket that only REST can fill; reconcile gold and feed_gaps"


def add_arguments(parser) -> None:
    parser.add_argument("--size", type=int, default=500, help="trade ids skipped on the WebSocket (default 500)")
    parser.add_argument("--at", type=float, default=0.3, help="where the skipped range starts, as a share of the recording (default 0.3)")
    add_feed_arguments(parser, 40.0, "")


def scenario(args, settings: Settings, recordings: list[Path], work_dir: Path, progress: Callable[[str], None]) -> ChaosResult:
    exchanges, by_symbol = exchanges_of(args), load_recordings(recordings)
    symbol, trades = next(iter(by_symbol.items()))
    first = trades[int(len(trades) * args.at)].trade_id
    skipped = (first, first + args.size - 1)
    feed = run_feed(settings, recordings, work_dir, exchanges, by_symbol, args.speed, ("--skip-ids", f"{skipped[0]}-{skipped[1]}"))
    progress(f"{NAME}: ids {skipped[0]}-{skipped[1]} of {symbol} skipped on the WebSocket, longest stall {feed.max_stall_s:.2f}s")
    return gold_result(
        NAME,
        settings,
        exchanges,
        by_symbol,
        feed.max_stall_s,
        {"skipped_ids": list(skipped), "symbol": symbol},
        lambda recs, _dlq: {"gap_repaired_in_feed_gaps": all(_covers(r.gaps, symbol, skipped) for r in recs)},
        progress,
    )


def _covers(gaps: list[dict], symbol: str, ids: tuple[int, int]) -> bool:
    """Every skipped id lies inside a repaired feed_gaps row of the symbol."""
    repaired = [g for g in gaps if g["symbol"] == symbol and g["repaired"]]
    return all(any(g["first_missing_id"] <= i <= g["last_missing_id"] for g in repaired) for i in range(ids[0], ids[1] + 1))
