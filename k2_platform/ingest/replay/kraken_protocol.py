"""Kraken WebSocket v2 (/v2) and REST Trades, derived from the recorded trades.

Prices and quantities are written as JSON numbers straight from the recorded decimal text
(trailing zeros dropped), never through a float. Timestamps are RFC 3339 with microseconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from websockets.exceptions import ConnectionClosed

from ...schemas.instruments import UnknownInstrument, default_instruments
from ..recording import RecordedTrade, Timeline
from .state import ReplayState
from .streaming import ReplayConnection, stream

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SNAPSHOT_SIZE = 50
MAX_HISTORY_ROWS = 1000
_connection_ids = itertools.count(1_000_000)


def json_number(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def rfc3339(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _row(t: RecordedTrade, symbol: str) -> str:
    return (
        f'{{"symbol":"{symbol}","side":"{"sell" if t.buyer_is_maker else "buy"}","price":{json_number(t.price)},'
        f'"qty":{json_number(t.quantity)},"ord_type":"market","trade_id":{t.trade_id},"timestamp":"{rfc3339(t.trade_ms)}"}}'
    )


def trade_frames(batch: list[RecordedTrade], symbol: str, kind: str = "update") -> list[str]:
    """One frame per run of trades sharing a millisecond, as Kraken batches simultaneous fills."""
    return [
        f'{{"channel":"trade","type":"{kind}","data":[{",".join(_row(t, symbol) for t in group)}]}}'
        for _, group in itertools.groupby(batch, key=lambda t: t.trade_ms)
    ]


def _malformed(index: int, last: RecordedTrade, symbol: str) -> str:
    row = _row(last, symbol)
    variants = (
        trade_frames([last], symbol)[0][:40],  # truncated JSON
        row.replace(f'"symbol":"{symbol}"', '"symbol":"NOPE/USD"'),  # unknown symbol
        row.replace(f'"price":{json_number(last.price)}', '"price":"abc"'),  # non-numeric price
        row.replace(f'"qty":{json_number(last.quantity)}', '"qty":-0.5'),  # negative quantity
        row.replace(f'"price":{json_number(last.price)}', '"price":1e30'),  # beyond decimal(38,18)
    )
    variant = variants[index % len(variants)]
    return variant if index % len(variants) == 0 else f'{{"channel":"trade","type":"update","data":[{variant}]}}'


def resolve(state: ReplayState, pair: str) -> Timeline | None:
    """The recorded trades served as a Kraken pair (through the instruments reference data)."""
    try:
        canonical = default_instruments().by_venue("kraken", pair).symbol
    except UnknownInstrument:
        return None
    recorded = state.config.kraken_pairs.get(canonical, canonical)
    return state.config.timelines.get(recorded)


async def serve_v2(conn: ReplayConnection, heartbeat_s: float) -> None:
    ws = conn.ws
    await ws.send(
        json.dumps(
            {
                "channel": "status",
                "type": "update",
                "data": [{"api_version": "v2", "connection_id": next(_connection_ids), "system": "online", "version": "2.0.0"}],
            }
        )
    )
    tasks: list[asyncio.Task] = [asyncio.create_task(_heartbeats(conn, heartbeat_s))]
    try:
        async for raw in ws:
            try:
                request = json.loads(raw)
            except ValueError:
                await ws.send(json.dumps({"error": "Malformed request", "success": False, "time_in": _now(), "time_out": _now()}))
                continue
            method, req_id = request.get("method"), request.get("req_id")
            if method == "ping":
                if not conn.silent:
                    await ws.send(json.dumps({"method": "pong", "req_id": req_id, "time_in": _now(), "time_out": _now()}))
            elif method == "subscribe" and request.get("params", {}).get("channel") == "trade":
                tasks += await _subscribe(conn, request["params"], req_id)
            else:
                await ws.send(
                    json.dumps(
                        {
                            "error": f"Unsupported method {method!r}",
                            "method": method,
                            "req_id": req_id,
                            "success": False,
                            "time_in": _now(),
                            "time_out": _now(),
                        }
                    )
                )
    except ConnectionClosed:
        pass  # the client went away (or dropped us as stale): nothing to answer any more
    finally:
        for task in tasks:
            task.cancel()


async def _subscribe(conn: ReplayConnection, params: dict, req_id) -> list[asyncio.Task]:
    tasks = []
    snapshot = params.get("snapshot", True)
    for symbol in params.get("symbol", []):
        timeline = resolve(conn.state, symbol)
        ack = {"method": "subscribe", "req_id": req_id, "time_in": _now(), "time_out": _now()}
        if timeline is None:
            await conn.ws.send(json.dumps({**ack, "error": f"Currency pair not supported {symbol}", "success": False, "symbol": symbol}))
            continue
        await conn.ws.send(json.dumps({**ack, "result": {"channel": "trade", "snapshot": snapshot, "symbol": symbol}, "success": True}))
        key = f"kraken:{symbol}"
        if snapshot:
            end = conn.state.cursors.get(key, 0)
            recent = [
                timeline[p]
                for p in range(max(0, end - SNAPSHOT_SIZE), end)
                if not conn.state.config.faults.skips(timeline[p].trade_id) and not conn.state.withheld(timeline[p].trade_id)
            ]
            if recent:
                await conn.ws.send(f'{{"channel":"trade","type":"snapshot","data":[{",".join(_row(t, symbol) for t in recent)}]}}')
        tasks.append(
            asyncio.create_task(
                stream(
                    conn,
                    key,
                    timeline,
                    build=lambda batch, s=symbol: trade_frames(batch, s),
                    malformed=lambda i, last, s=symbol: _malformed(i, last, s),
                )
            )
        )
    return tasks


async def _heartbeats(conn: ReplayConnection, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        if not conn.silent:
            await conn.ws.send('{"channel":"heartbeat"}')


def _cursor(t: RecordedTrade, index_in_ms: int) -> int:
    # Kraken's `since`/`last` is a nanosecond timestamp; the index within the millisecond keeps
    # pages exact when many trades share one millisecond.
    return t.trade_ms * 1_000_000 + index_in_ms


def trades_history(state: ReplayState, query: str) -> tuple[int, str]:
    """GET /0/public/Trades?pair=&since= (trades strictly after `since`, ns or s)."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    pair = params.get("pair", "")
    timeline = resolve(state, pair)
    if timeline is None:
        return 200, json.dumps({"error": ["EQuery:Unknown asset pair"]})
    since_text = params.get("since", "0")
    try:
        since = int(float(since_text) * 1e9) if "." in since_text or len(since_text) < 13 else int(since_text)
        count = min(int(params.get("count", MAX_HISTORY_ROWS)), MAX_HISTORY_ROWS)
    except ValueError:
        return 200, json.dumps({"error": ["EGeneral:Invalid arguments:since"]})
    position = _first_at_or_after_ms(timeline, since // 1_000_000)
    rows, last = [], since
    index_in_ms, previous_ms = 0, None
    horizon = state.horizon(timeline)
    while position < horizon and len(rows) < count:
        t = timeline[position]
        index_in_ms = index_in_ms + 1 if t.trade_ms == previous_ms else 0
        previous_ms = t.trade_ms
        position += 1
        cursor = _cursor(t, index_in_ms)
        if cursor <= since or state.withheld(t.trade_id):
            continue
        seconds = f"{t.trade_ms // 1000}.{t.trade_ms % 1000:03d}000"
        rows.append([t.price, t.quantity, seconds, "s" if t.buyer_is_maker else "b", "m", "", t.trade_id])
        last = cursor
    # Real Kraken returns prices as strings and the time as a JSON number with decimals.
    body = json.dumps({"error": [], "result": {pair.replace("/", ""): "ROWS", "last": str(last)}})
    encoded_rows = "[" + ",".join(f'["{r[0]}","{r[1]}",{r[2]},"{r[3]}","{r[4]}","{r[5]}",{r[6]}]' for r in rows) + "]"
    return 200, body.replace('"ROWS"', encoded_rows)


def _first_at_or_after_ms(timeline: Timeline, ms: int) -> int:
    lo, hi = 0, len(timeline)
    while lo < hi:
        mid = (lo + hi) // 2
        if timeline[mid].trade_ms < ms:
            lo = mid + 1
        else:
            hi = mid
    return lo
