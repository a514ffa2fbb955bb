"""The query layer as one object: what the REST API and `k2 query` call."""

from __future__ import annotations

import threading
import time

from pyiceberg.catalog import Catalog

from ..schemas.codec import decoder_from_settings
from ..settings import Settings
from . import bars, summary, symbols
from .bar_json import RenderedBarFiles
from .engine import QueryEngine
from .hybrid import HybridTrades, recent_trades
from .snapshots import TableMissing
from .tail_reader import TailReader
from .trades import GOLD, TradeFilter, TradePage, trades_page


class UnknownSymbol(LookupError, ValueError):  # ValueError: the CLI prints it as a one-line error
    pass


class QueryService:
    def __init__(self, settings: Settings, catalog: Catalog | None = None, engine: QueryEngine | None = None):
        self.settings = settings
        self.engine = engine or QueryEngine.from_settings(settings, catalog)
        self._reader: TailReader | None = None
        self.file_stats = summary.FileStats(settings.query.summary_file_cache_entries)
        self.bar_files = RenderedBarFiles(settings.query.plan_cache_entries)
        self._symbols: tuple[int | None, list[dict]] | None = None
        self._lock = threading.Lock()

    @property
    def reader(self) -> TailReader:
        """The background Kafka tail reader, started by the first hybrid read."""
        with self._lock:
            if self._reader is None:
                self._reader = TailReader(self.settings, decoder_from_settings(self.settings), self._gold_offsets)
            return self._reader

    def _gold_offsets(self) -> dict[str, dict[int, int]]:
        try:
            return self.engine.pin(GOLD).kafka_offsets()
        except TableMissing:
            return {}

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self.engine.close()

    def symbols(self) -> list[dict]:
        # Reference data changes rarely: re-read only when the instruments table has a new snapshot.
        snapshot_id = self.engine.pin("instruments").snapshot_id
        cached = self._symbols
        if cached is None or cached[0] != snapshot_id:
            cached = self._symbols = (snapshot_id, symbols.symbols(self.engine))
        return cached[1]

    def check_symbol(self, symbol: str) -> str:
        known = [s["symbol"] for s in self.symbols()]
        if symbol.upper() not in known:
            raise UnknownSymbol(f"unknown symbol {symbol!r}; known symbols: {', '.join(known)}")
        return symbol.upper()

    def trades(self, flt: TradeFilter, limit: int, after=None, snapshot_id=None) -> TradePage:
        return trades_page(self.engine, flt, limit, after, snapshot_id)

    def recent(self, flt: TradeFilter, limit: int) -> HybridTrades:
        return recent_trades(self.engine, self.reader, flt, limit)

    def ohlcv(self, symbol: str, interval: str, start_us: int, end_us: int, limit: int, exchange: str | None = None):
        return bars.bars(self.engine, symbol, interval, start_us, end_us, limit, exchange)

    def ohlcv_json(self, symbol: str, interval: str, start_us: int, end_us: int, limit: int, exchange: str | None = None) -> list[str]:
        return self.bar_files.bars_json(self.engine, symbol, interval, start_us, end_us, limit, exchange)

    def summary(self, end_us: int | None = None) -> list[dict]:
        return summary.summary(self.engine, self.file_stats, end_us or time.time_ns() // 1000, self.settings.query.summary_window_h)
