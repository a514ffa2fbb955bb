"""Binance spot: combined trade streams and REST trade history.

Frame: {"stream":"btcusdt@trade","data":{"e":"trade","E":..,"s":"BTCUSDT","t":..,"p":"61837.63000000",
"q":"0.02000000","T":..,"m":true,"M":true}} (raw streams send the bare data object). Prices and
quantities are strings, parsed exactly; `m` (buyer is maker) true means the aggressor sold.
Frames are parsed with orjson: no number of a trade frame is a JSON float (those that are get
rejected as before), so nothing exact depends on the JSON parser's number handling.
"""

from __future__ import annotations

import httpx
import orjson

from ..schemas.ingest_reject import STAGE_NORMALIZE, STAGE_PARSE
from .normalize import Normalizer, json_text, now_us, require_int
from .trade_wire import WireTrade
from .venue import FrameRejected, ParsedFrame, Venue

# Fields that become trade columns; every other field of the frame goes to vendor_data.
_TRADE_FIELDS = frozenset(("s", "t", "p", "q", "T", "E"))
_HISTORY_FIELDS = frozenset(("id", "price", "qty", "time", "isBuyerMaker"))
# A frame with exactly these fields has one of four vendor maps: built once, not per trade.
_USUAL_FIELDS = frozenset(("e", "E", "s", "t", "p", "q", "T", "m", "M"))
_USUAL_VENDOR = {(m, best): (("e", "trade"), ("m", json_text(m)), ("M", json_text(best))) for m in (False, True) for best in (False, True)}
_EMPTY: ParsedFrame = ((), ())


class BinanceVenue(Venue):
    name = "binance"

    def __init__(self, normalizer: Normalizer, max_connection_age_s: float | None, page_limit: int = 1000):
        self.normalizer = normalizer
        self.max_connection_age_s = max_connection_age_s
        self.page_limit = page_limit

    def stream_url(self, endpoint: str, exchange_symbols: list[str]) -> str:
        return f"{endpoint.rstrip('/')}/stream?streams=" + "/".join(f"{s.lower()}@trade" for s in exchange_symbols)

    def parse(self, raw: str | bytes, received_us: int) -> ParsedFrame:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FrameRejected(f"not JSON: {exc}", STAGE_PARSE) from None
        if type(message) is not dict:
            raise FrameRejected("frame is not a JSON object", STAGE_PARSE)
        data = message.get("data", message)
        if type(data) is not dict:
            raise FrameRejected("`data` is not a JSON object", STAGE_PARSE)
        event = data.get("e")
        if event is None and ("result" in message or "id" in message):
            return _EMPTY  # answer to a subscription request
        if event != "trade":
            raise FrameRejected(f"unexpected event type {json_text(event)!r}", STAGE_PARSE)
        try:
            trade = self._trade(data, received_us)
        except FrameRejected as exc:
            return (), (exc,)
        return (trade,), ()

    def _trade(self, data: dict, received_us: int) -> WireTrade:
        try:
            symbol, trade_id, price, quantity = data["s"], data["t"], data["p"], data["q"]
            trade_ms, event_ms, buyer_is_maker = data["T"], data["E"], data["m"]
        except KeyError as exc:
            raise FrameRejected(f"trade frame lacks field {exc}", STAGE_NORMALIZE) from None
        if type(symbol) is not str:
            raise FrameRejected(f"s: expected a symbol, got {json_text(symbol)!r}", STAGE_NORMALIZE)
        if type(buyer_is_maker) is not bool:
            raise FrameRejected(f"m: expected true or false, got {json_text(buyer_is_maker)!r}", STAGE_NORMALIZE)
        best_match = data.get("M")
        if type(best_match) is bool and data.keys() == _USUAL_FIELDS:
            vendor = _USUAL_VENDOR[buyer_is_maker, best_match]
        else:
            vendor = tuple((k, json_text(v)) for k, v in data.items() if k not in _TRADE_FIELDS)
        if not (type(trade_id) is int and type(trade_ms) is int and type(event_ms) is int and min(trade_id, trade_ms, event_ms) >= 0):
            for value, field in ((trade_id, "t"), (trade_ms, "T"), (event_ms, "E")):
                require_int(value, field)  # raises with the first bad field's reason
        n = self.normalizer
        # Positional (in Normalizer.trade's order): keywords cost measurably at one call per trade.
        return n.trade(
            symbol,
            trade_id,
            n.amount(price, "price"),
            n.amount(quantity, "quantity"),
            buyer_is_maker,
            trade_ms * 1000,
            received_us,
            event_ms * 1000,
            vendor,
        )

    async def history(
        self, http: httpx.AsyncClient, rest_url: str, exchange_symbol: str, first_id: int, last_id: int | None, after_time_us: int
    ) -> list[WireTrade]:
        trades: list[WireTrade] = []
        next_id = first_id
        while last_id is None or next_id <= last_id:
            limit = self.page_limit if last_id is None else min(self.page_limit, last_id - next_id + 1)
            response = await http.get(
                f"{rest_url.rstrip('/')}/api/v3/historicalTrades", params={"symbol": exchange_symbol, "fromId": next_id, "limit": limit}
            )
            response.raise_for_status()
            page = response.json()
            for row in page:
                if row["id"] >= first_id and (last_id is None or row["id"] <= last_id):
                    trades.append(self._history_trade(exchange_symbol, row))
            if len(page) < limit:
                break  # the newest trade is reached
            next_id = page[-1]["id"] + 1
        return trades

    def _history_trade(self, symbol: str, row: dict) -> WireTrade:
        n = self.normalizer
        if type(row["isBuyerMaker"]) is not bool:
            raise FrameRejected(f"isBuyerMaker: expected true or false, got {json_text(row['isBuyerMaker'])!r}", STAGE_NORMALIZE)
        return n.trade(
            exchange_symbol=symbol,
            trade_id=require_int(row["id"], "id"),
            price=n.amount(row["price"], "price"),
            quantity=n.amount(row["qty"], "qty"),
            aggressor_sells=row["isBuyerMaker"],
            trade_time_us=require_int(row["time"], "time") * 1000,
            received_us=now_us(),
            event_time_us=None,
            vendor_data=(("source", "rest"), *((k, json_text(v)) for k, v in row.items() if k not in _HISTORY_FIELDS)),
        )
