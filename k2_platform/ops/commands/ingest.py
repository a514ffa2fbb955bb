"""`k2 ingest`: exchange WebSocket feeds -> normalized Avro trades in Kafka (a long-running service)."""

from __future__ import annotations

import asyncio
import logging

from ...ingest.service import IngestService, live_feeds, replay_feeds
from ...settings import EXCHANGES
from ..errors import StackError


def register(sub) -> None:
    p = sub.add_parser(
        "ingest",
        help="run the exchange feeds and produce trades to Kafka",
        description="Connects to Binance/Kraken (or the local replay exchange), normalizes trades exactly, repairs "
        "trade-id gaps from REST, and produces Avro records (idempotent, acks=all) until SIGTERM/SIGINT.",
    )
    p.add_argument("--exchange", default=",".join(EXCHANGES), help=f"comma-separated exchanges (default {','.join(EXCHANGES)})")
    p.add_argument("--symbols", default="BTCUSDT", help="comma-separated canonical symbols, e.g. BTCUSDT,BTCUSD (default BTCUSDT)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--replay", metavar="URL", help="replay exchange URL (default: ws://<ingest.replay_host>:<ingest.replay_port>)")
    source.add_argument("--live", action="store_true", help="connect to the real exchanges (URLs from settings)")
    p.add_argument("--exit-after-idle", type=float, metavar="SECONDS", help="stop once no trade arrived for this long (replays)")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per REST page is noise
    exchanges = [e.strip().lower() for e in args.exchange.split(",") if e.strip()]
    unknown = sorted(set(exchanges) - set(EXCHANGES))
    if unknown:
        raise StackError(f"unknown exchange {', '.join(unknown)}; choose from {', '.join(EXCHANGES)}")
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    feeds = live_feeds(settings, exchanges, symbols) if args.live else replay_feeds(settings, exchanges, symbols, args.replay)
    service = IngestService(settings, feeds, idle_exit_s=args.exit_after_idle)
    code = asyncio.run(service.run(handle_signals=True))
    for exchange, s in service.stats.items():
        print(
            f"{exchange}: {s.messages:,} frames, {s.trades:,} trades ({s.repaired_trades:,} from REST), {s.duplicates:,} duplicates "
            f"dropped, {s.rejects:,} rejected, gaps {s.gaps_repaired}/{s.gaps_found} repaired",
            flush=True,
        )
    return code
