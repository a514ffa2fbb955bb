"""`k2 replay-server`: a local exchange that replays recordings over the Binance and Kraken protocols."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from ...ingest.replay.faults import FaultPlan, parse_hold_back, parse_id_range
from ...ingest.replay.server import ReplayServer, replay_config
from ..errors import StackError


def register(sub) -> None:
    p = sub.add_parser(
        "replay-server",
        help="serve recorded trades over the Binance and Kraken WebSocket/REST protocols on loopback",
        description="Replays recordings (lines of `<receive ns> <Binance combined-stream frame>`, gzip) as a local "
        "exchange: Binance /stream and /ws/<stream>, /api/v3/historicalTrades; Kraken /v2 and /0/public/Trades.",
    )
    p.add_argument(
        "--recording", action="append", type=Path, required=True, metavar="PATH", help="recording file (.txt.gz); repeat for several files"
    )
    p.add_argument("--host", help="listen address (default: settings ingest.replay_host)")
    p.add_argument("--port", type=int, help="listen port (default: settings ingest.replay_port; 0 picks a free port)")
    p.add_argument("--speed", default="1", help="1 = recorded pace, N = N times faster, 'max' = as fast as possible (default 1)")
    p.add_argument("--loops", type=int, default=1, help="replay the recording this many times with shifted ids and times (default 1)")
    p.add_argument(
        "--rebase-time",
        metavar="now|ISO-8601",
        help="shift the recording so its first trade happens at this time ('now': when the server starts); "
        "loops continue forward from there. With --speed 1 trade times then follow the wall clock",
    )
    p.add_argument(
        "--kraken-pair",
        action="append",
        default=[],
        metavar="CANONICAL=RECORDED",
        help="serve a recorded symbol as a Kraken instrument, e.g. BTCUSD=BTCUSDT (then BTC/USD and XBT/USD stream it)",
    )
    f = p.add_argument_group("fault injection")
    f.add_argument("--disconnect-after", type=int, metavar="N", help="close each connection after N trade messages")
    f.add_argument("--disconnects", type=int, default=1, metavar="K", help="at most K forced disconnects in total (default 1)")
    f.add_argument("--skip-ids", type=parse_id_range, metavar="FIRST-LAST", help="never send these trade ids on the WebSocket (REST has them)")
    f.add_argument("--resend", type=int, default=0, metavar="N", help="after a reconnect, resend the last N already-sent trades")
    f.add_argument("--malformed-every", type=int, metavar="N", help="add a malformed frame every N messages")
    f.add_argument("--silent-after", type=int, metavar="N", help="once, after N messages: go silent and stop answering pings")
    f.add_argument(
        "--hold-back",
        type=parse_hold_back,
        metavar="TRADE_ID:N",
        help="withhold this trade (WebSocket and REST) until N more trades went out, then send it late",
    )
    f.add_argument("--slow-consumer-kb", type=int, metavar="KB", help="disconnect a client whose unsent backlog exceeds KB")
    p.set_defaults(func=run)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise StackError(f"--speed must be a positive number or 'max', got {text!r}") from None
    if speed <= 0:
        raise StackError(f"--speed must be a positive number or 'max', got {text!r}")
    return speed


def _rebase_ms(text: str | None) -> int | None:
    if text is None:
        return None
    if text == "now":
        return time.time_ns() // 1_000_000
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StackError(f"--rebase-time expects 'now' or an ISO 8601 time, got {text!r}") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        canonical, sep, recorded = item.partition("=")
        if not sep:
            raise StackError(f"--kraken-pair expects CANONICAL=RECORDED, got {item!r}")
        pairs[canonical.upper()] = recorded.upper()
    return pairs


def run(args, settings) -> int:
    missing = [str(p) for p in args.recording if not p.is_file()]
    if missing:
        raise StackError(f"recording not found: {', '.join(missing)}")
    faults = FaultPlan(
        disconnect_after=args.disconnect_after,
        disconnects=args.disconnects,
        skip_ids=args.skip_ids,
        resend=args.resend,
        malformed_every=args.malformed_every,
        silent_after=args.silent_after,
        slow_consumer_kb=args.slow_consumer_kb,
        hold_back=args.hold_back,
    )
    config = replay_config(
        args.recording,
        speed=_speed(args.speed),
        loops=args.loops,
        faults=faults,
        kraken_pairs=_pairs(args.kraken_pair),
        first_trade_ms=_rebase_ms(args.rebase_time),
    )
    i = settings.ingest
    server = ReplayServer(
        config, args.host or i.replay_host, i.replay_port if args.port is None else args.port, i.replay_ping_interval_s, i.replay_heartbeat_s
    )
    asyncio.run(_serve(server, sum(len(t) for t in config.timelines.values())))
    return 0


async def _serve(server: ReplayServer, trades: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as exc:
        raise StackError(
            f"replay server cannot listen on {server.host}:{server.port}: {exc.strerror}; choose another port with --port or K2_INGEST__REPLAY_PORT"
        ) from None
    print(
        f"replay exchange on {server.url} ({trades:,} trades): Binance {server.url}/stream?streams=btcusdt@trade, Kraken {server.url}/v2", flush=True
    )
    await stop.wait()
    await server.stop()
