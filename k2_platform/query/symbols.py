"""The symbols K2 knows: the instruments table, or the packaged reference data while it is empty."""

from __future__ import annotations

from ..schemas.instruments import default_instruments
from .engine import QueryEngine
from .rows import arrow_rows

_SQL = "SELECT symbol, exchange, exchange_symbol, base, quote, tick_size, lot_size FROM {source} ORDER BY symbol, exchange, exchange_symbol"


def _reference_rows() -> list[dict]:
    return [
        {
            "symbol": i.symbol,
            "exchange": venue,
            "exchange_symbol": spelling,
            "base": i.base,
            "quote": i.quote,
            "tick_size": i.tick_size,
            "lot_size": i.lot_size,
        }
        for i in default_instruments().instruments.values()
        for venue, spellings in i.venue_symbols.items()
        for spelling in spellings
    ]


def symbols(engine: QueryEngine) -> list[dict]:
    """One entry per canonical symbol: base, quote, tick/lot sizes and every venue spelling."""
    rows = arrow_rows(engine.query("instruments", _SQL)) or _reference_rows()
    out: dict[str, dict] = {}
    for row in sorted(rows, key=lambda r: (r["symbol"], r["exchange"], r["exchange_symbol"])):
        entry = out.setdefault(row["symbol"], {k: row[k] for k in ("symbol", "base", "quote", "tick_size", "lot_size")} | {"venues": {}})
        entry["venues"].setdefault(row["exchange"], []).append(row["exchange_symbol"])
    return list(out.values())
