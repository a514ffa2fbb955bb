"""Binance spot as the replay exchange speaks it: /stream?streams=.., /ws/<stream>, historicalTrades."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from ..recording import RecordedTrade
from .state import ReplayState
from .streaming import POLICY_VIOLATION, ReplayConnection, stream

MAX_HISTORY_LIMIT = 1000


def _combined(stream_name: str, data: str) -> str:
    return f'{{"stream":"{stream_name}","data":{data}}}'


def _malformed(index: int, last: RecordedTrade, stream_name: str) -> str:
    data = last.binance_data()
    variants = (
        _combined(stream_name, data)[:57],  # truncated JSON
        data.replace(f'"s":"{last.symbol}"', '"s":"NOPEUSDT"'),  # unknown symbol
        data.replace(f'"p":"{last.price}"', '"p":"abc"'),  # non-numeric price
        data.replace(f'"q":"{last.quantity}"', '"q":"-0.5"'),  # negative quantity
        data.replace(f'"p":"{last.price}"', '"p":"123456789012345678901234.5"'),  # beyond decimal(38,18)
    )
    frame = variants[index % len(variants)]
    return frame if index % len(variants) == 0 else _combined(stream_name, frame)


async def serve_streams(conn: ReplayConnection, path: str) -> None:
    """Combined (`/stream?streams=a@trade/b@trade`) or raw (`/ws/a@trade`) trade streams."""
    parts = urlsplit(path)
    combined = parts.path.rstrip("/") == "/stream"
    names = parse_qs(parts.query).get("streams", [""])[0] if combined else parts.path[len("/ws/") :]
    timelines = conn.state.config.timelines
    tasks = []
    for name in filter(None, names.split("/")):
        symbol, _, kind = name.partition("@")
        if kind != "trade" or symbol.upper() not in timelines:
            await conn.ws.close(POLICY_VIOLATION, f"Invalid stream {name}")
            return
        wrap = (lambda data, n=name: _combined(n, data)) if combined else (lambda data: data)
        tasks.append(
            stream(
                conn,
                f"binance:{name}",
                timelines[symbol.upper()],
                build=lambda batch, wrap=wrap: [wrap(t.binance_data()) for t in batch],
                malformed=lambda i, last, n=name: _malformed(i, last, n),
            )
        )
    await asyncio.gather(*tasks)
    await conn.ws.wait_closed()


def historical_trades(state: ReplayState, query: str) -> tuple[int, str]:
    """GET /api/v3/historicalTrades?symbol=&fromId=&limit= (ids from fromId, oldest first)."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    timeline = state.config.timelines.get(params.get("symbol", "").upper())
    if timeline is None:
        return 400, json.dumps({"code": -1121, "msg": "Invalid symbol."})
    try:
        limit = min(int(params.get("limit", 500)), MAX_HISTORY_LIMIT)
        start = timeline.position_of(int(params["fromId"])) if "fromId" in params else max(0, len(timeline) - limit)
    except ValueError:
        return 400, json.dumps({"code": -1100, "msg": "Illegal characters found in a parameter."})
    rows = [t for t in (timeline[p] for p in range(start, min(start + limit, state.horizon(timeline)))) if not state.withheld(t.trade_id)]
    return 200, json.dumps(
        [
            {
                "id": t.trade_id,
                "price": t.price,
                "qty": t.quantity,
                "quoteQty": str(Decimal(t.price) * Decimal(t.quantity)),
                "time": t.trade_ms,
                "isBuyerMaker": t.buyer_is_maker,
                "isBestMatch": t.best_match,
            }
            for t in rows
        ]
    )
