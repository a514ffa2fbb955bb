"""Kraken WebSocket v2 trade channel and REST trade history.

Frame: {"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":61837.63,
"qty":0.02,"ord_type":"market","trade_id":4665906,"timestamp":"2024-08-08T23:54:15.342000Z"}]}.
Prices and quantities are JSON numbers: the frame is parsed with parse_float=Decimal, so each one
is built from its raw text and never passes through a float. Symbols resolve through the
instruments reference data (XBT/USD and BTC/USD are both BTCUSD there).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from ..schemas.ingest_reject import STAGE_NORMALIZE, STAGE_PARSE
from .normalize import Normalizer, json_text, now_us, require_int
from .trade_wire import WireTrade
from .venue import FrameRejected, ParsedFrame, Venue

_TRADE_FIELDS = frozenset(("symbol", "side", "price", "qty", "trade_id", "timestamp"))
_CONTROL_CHANNELS = frozenset(("heartbeat", "status"))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SIDES = {"buy": False, "sell": True}  # Kraken's side is the taker's: True = the aggressor sold
_EMPTY: ParsedFrame = ((), ())
_NS_PER_US = 1000


def rfc3339_us(text) -> int:
    if type(text) is not str:
        raise FrameRejected(f"timestamp: expected RFC 3339 text, got {json_text(text)!r}", STAGE_NORMALIZE)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FrameRejected(f"timestamp: {text!r} is not RFC 3339", STAGE_NORMALIZE) from None
    if moment.tzinfo is None:
        raise FrameRejected(f"timestamp: {text!r} has no time zone", STAGE_NORMALIZE)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class KrakenVenue(Venue):
    name = "kraken"
    uses_app_ping = True

    def __init__(self, normalizer: Normalizer, max_connection_age_s: float | None, page_limit: int = 1000):
        self.normalizer = normalizer
        self.max_connection_age_s = max_connection_age_s
        self.page_limit = page_limit

    def stream_url(self, endpoint: str, exchange_symbols: list[str]) -> str:
        return f"{endpoint.rstrip('/')}/v2"

    def subscribe_frames(self, exchange_symbols: list[str]) -> list[str]:
        # Snapshot on: after a reconnect the recent trades overlap what we had, so nothing is missed.
        return [json.dumps({"method": "subscribe", "params": {"channel": "trade", "symbol": exchange_symbols, "snapshot": True}, "req_id": 1})]

    def ping_frame(self, request_id: int) -> str:
        return json.dumps({"method": "ping", "req_id": request_id})

    def parse(self, raw: str | bytes, received_us: int) -> ParsedFrame:
        try:
            message = json.loads(raw, parse_float=Decimal)
        except ValueError as exc:
            raise FrameRejected(f"not JSON: {exc}", STAGE_PARSE) from None
        if type(message) is not dict:
            raise FrameRejected("frame is not a JSON object", STAGE_PARSE)
        channel = message.get("channel")
        if channel == "trade":
            return self._trades(message, received_us)
        if channel in _CONTROL_CHANNELS:
            return _EMPTY
        method = message.get("method")
        if method in ("pong", "subscribe", "unsubscribe"):
            if method == "subscribe" and message.get("success") is False:
                raise FrameRejected(f"subscription refused: {json_text(message.get('error'))}", STAGE_PARSE)
            return _EMPTY
        raise FrameRejected(f"unexpected frame (channel {json_text(channel)!r}, method {json_text(method)!r})", STAGE_PARSE)

    def _trades(self, message: dict, received_us: int) -> ParsedFrame:
        rows = message.get("data")
        if type(rows) is not list:
            raise FrameRejected("trade frame has no `data` list", STAGE_PARSE)
        trades, rejects = [], []
        frame_type = json_text(message.get("type"))
        for index, row in enumerate(rows):
            try:
                trades.append(self._trade(row, received_us, frame_type))
            except FrameRejected as exc:
                rejects.append(FrameRejected(f"data[{index}]: {exc}", exc.stage))
        return trades, rejects

    def _trade(self, row, received_us: int, frame_type: str) -> WireTrade:
        if type(row) is not dict:
            raise FrameRejected("trade is not a JSON object", STAGE_NORMALIZE)
        try:
            symbol, side, price, qty, trade_id, timestamp = (row[k] for k in ("symbol", "side", "price", "qty", "trade_id", "timestamp"))
        except KeyError as exc:
            raise FrameRejected(f"trade lacks field {exc}", STAGE_NORMALIZE) from None
        if type(symbol) is not str:
            raise FrameRejected(f"symbol: expected text, got {json_text(symbol)!r}", STAGE_NORMALIZE)
        if side not in _SIDES:
            raise FrameRejected(f"side: expected buy or sell, got {json_text(side)!r}", STAGE_NORMALIZE)
        n = self.normalizer
        vendor = (*((k, json_text(v)) for k, v in row.items() if k not in _TRADE_FIELDS), ("frame_type", frame_type))
        return n.trade(
            exchange_symbol=symbol,
            trade_id=require_int(trade_id, "trade_id"),
            price=n.amount(price, "price"),
            quantity=n.amount(qty, "qty"),
            aggressor_sells=_SIDES[side],
            trade_time_us=rfc3339_us(timestamp),
            received_us=received_us,
            event_time_us=None,
            vendor_data=vendor,
        )

    async def history(
        self, http: httpx.AsyncClient, rest_url: str, exchange_symbol: str, first_id: int, last_id: int | None, after_time_us: int
    ) -> list[WireTrade]:
        # Kraken history is addressed by time (`since`, ns), not by id: page from the last trade
        # before the gap until the missing ids are covered.
        since = after_time_us * _NS_PER_US - 1
        found: dict[int, WireTrade] = {}
        while True:
            response = await http.get(
                f"{rest_url.rstrip('/')}/0/public/Trades", params={"pair": exchange_symbol, "since": str(since), "count": self.page_limit}
            )
            response.raise_for_status()
            body = json.loads(response.text, parse_float=Decimal)
            if body.get("error"):
                raise RuntimeError(f"Kraken Trades error: {body['error']}")
            result = body["result"]
            rows = next(v for k, v in result.items() if k != "last")
            for row in rows:
                trade_id = row[6]
                if trade_id >= first_id and (last_id is None or trade_id <= last_id):
                    found[trade_id] = self._history_trade(exchange_symbol, row)
            last = int(result["last"])
            if not rows or last <= since or (last_id is not None and rows[-1][6] >= last_id):
                return [found[i] for i in sorted(found)]
            since = last

    def _history_trade(self, symbol: str, row: list) -> WireTrade:
        # [price, volume, time (s, decimal), "b"/"s", "m"/"l", misc, trade_id]
        price, volume, seconds, side, order_type, misc, trade_id = row[:7]
        n = self.normalizer
        if side not in ("b", "s"):
            raise FrameRejected(f"side: expected b or s, got {json_text(side)!r}", STAGE_NORMALIZE)
        return n.trade(
            exchange_symbol=symbol,
            trade_id=require_int(trade_id, "trade_id"),
            price=n.amount(price, "price"),
            quantity=n.amount(volume, "volume"),
            aggressor_sells=side == "s",
            trade_time_us=int(Decimal(seconds) * 1_000_000),
            received_us=now_us(),
            event_time_us=None,
            vendor_data=(("source", "rest"), ("ord_type", json_text(order_type)), ("misc", json_text(misc))),
        )
