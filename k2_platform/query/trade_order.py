"""The one order of trades (DESIGN section 8): (trade_time, exchange, symbol, sequence), gold's sort order.

`sequence` is the venue's trade id as a number, per exchange and symbol (ingest writes the id it
sequences by), so trades inside one millisecond come in the venue's own order. message_id comes last
only to make the key total: if a venue ever sent two trades with one sequence number, a page
boundary still neither skips nor repeats a row.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..lakehouse.table_specs import GOLD

TRADE_ORDER = (*GOLD.sort, "message_id")
TradeKey = tuple[int, str, str, int, str]  # a row's TRADE_ORDER values, trade_time in µs


def sort_keys(time_column: str = "trade_time", descending: bool = False) -> list[tuple[str, str]]:
    """pyarrow sort keys for TRADE_ORDER, the time read from `time_column`."""
    direction = "descending" if descending else "ascending"
    return [(time_column, direction), *((c, direction) for c in TRADE_ORDER[1:])]


def key_at(rows: pa.Table, i: int) -> TradeKey:
    time_us = pc.cast(rows.column("trade_time"), pa.int64())[i].as_py()
    return (time_us, *(rows.column(c)[i].as_py() for c in TRADE_ORDER[1:]))
