"""A large, realistic gold_trades table for benchmarks, generated from the shared Binance recordings.

Prices, quantities and inter-trade gaps are sampled from the recorded BTCUSDT trades; other symbols
reuse them rescaled to their own magnitudes (SHIB/PEPE: sub-micro prices, billions of units), all
as exact decimals. Rows are written one day per append, so gold's hour partitions give hourly files
sorted by trade time, as the medallion writes them after compaction. Bars come from the same builder
the ohlcv assets run (query/bar_build.py).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog

from ..lakehouse.tables import ensure_all_tables, load
from .bar_build import build_bars
from .engine import QueryEngine

# symbol -> (base, quote, price multiplier, price unit, quantity multiplier, quantity unit, share of trades)
# applied to the recording's price in cents and quantity in 1e-8 units.
SYMBOLS = {
    "BTCUSDT": ("BTC", "USDT", 1, "0.01", 1, "0.00000001", 0.35),
    "ETHUSDT": ("ETH", "USDT", 4, "0.0001", 25, "0.00000001", 0.25),
    "SOLUSDT": ("SOL", "USDT", 22, "0.000001", 500, "0.00000001", 0.15),
    "SHIBUSDT": ("SHIB", "USDT", 25, "0.00000000000001", 3, "1", 0.15),
    "PEPEUSDT": ("PEPE", "USDT", 13, "0.0000000000000001", 10, "1", 0.10),
}
DAY_US = 86_400_000_000
ROWS_PROPERTY = "k2.bench.rows"


def recorded_trades(paths: list[Path]) -> pa.Table:
    """(price in cents, quantity in 1e-8) of every recorded trade."""
    prices, quantities = [], []
    for path in paths:
        with gzip.open(path, "rt") as lines:
            for line in lines:
                data = json.loads(line.split(" ", 1)[1])["data"]
                prices.append(int(Decimal(data["p"]) * 100))
                quantities.append(int(Decimal(data["q"]) * 100_000_000))
    return pa.table({"i": pa.array(range(len(prices)), pa.int64()), "price_int": prices, "qty_int": quantities})


def _symbols_table() -> pa.Table:
    rows, cumulative = [], 0.0
    for symbol, (base, quote, pm, pu, qm, qu, share) in SYMBOLS.items():
        rows.append(
            {"symbol": symbol, "base": base, "quote": quote, "pm": pm, "pu": pu, "qm": qm, "qu": qu, "lo": cumulative, "hi": cumulative + share}
        )
        cumulative += share
    return pa.Table.from_pylist(rows)


# One day of trades, in time order; value columns computed as exact decimals from integers. message_id is
# md5-derived and UUID-shaped (DuckDB has no uuid5): unique and deterministic, which is all a benchmark needs.
_DAY_SQL = """
WITH g AS (
  SELECT range AS n, CAST($start_us + (range - $first) * $gap_us + (hash(range, 1) % $gap_us) AS BIGINT) AS t_us,
         (hash(range, 2) % 1000000) / 1000000.0 AS u, CAST(hash(range, 3) % $recorded AS BIGINT) AS pick
  FROM range($first, $first + $rows)
)
SELECT regexp_replace(md5('binance|' || s.symbol || '|' || g.n::VARCHAR), '(.{8})(.{4})(.{4})(.{4})(.{12})', '\\1-\\2-\\3-\\4-\\5') AS message_id,
       'binance' AS exchange, s.symbol, s.symbol AS exchange_symbol, s.base, s.quote, g.n::VARCHAR AS trade_id,
       CAST(r.price_int * s.pm AS DECIMAL(38,0)) * CAST(s.pu AS DECIMAL(38,18)) AS price,
       CAST(r.qty_int * s.qm AS DECIMAL(38,0)) * CAST(s.qu AS DECIMAL(38,18)) AS quantity,
       CAST(CAST(r.price_int * s.pm AS HUGEINT) * (r.qty_int * s.qm) AS DECIMAL(38,0))
         * CAST(CAST(s.pu AS DECIMAL(38,18)) * CAST(s.qu AS DECIMAL(38,18)) AS DECIMAL(38,18)) AS quote_quantity,
       CASE WHEN hash(g.n, 4) % 2 = 0 THEN 'BUY' ELSE 'SELL' END AS side,
       make_timestamptz(g.t_us) AS trade_time, make_timestamptz(g.t_us) AS event_time,
       make_timestamptz(g.t_us + 1300000) AS ingest_time, g.n AS sequence, 2 AS schema_version
FROM g JOIN syms s ON g.u >= s.lo AND g.u < s.hi JOIN rec r ON r.i = g.pick
ORDER BY g.t_us, g.n
"""


def build_gold(
    catalog: Catalog,
    namespace: str,
    recordings: list[Path],
    rows: int,
    days: int,
    end_day_us: int,
    progress: Callable[[str], None] = print,
    minute_bars: bool = True,
) -> None:
    """Write `rows` trades over `days` days ending at `end_day_us` into gold_trades, then (minute_bars) their
    1m bars with the bar assets' own builder."""
    tables = ensure_all_tables(catalog, namespace)
    gold = tables["gold_trades"]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    recorded = recorded_trades(recordings)
    con.register("rec", recorded)
    con.register("syms", _symbols_table())
    per_day = rows // days
    schema = gold.schema().as_arrow()
    for day in range(days):
        n = per_day if day < days - 1 else rows - per_day * (days - 1)
        start_us = end_day_us - (days - day) * DAY_US
        arrow = con.sql(
            _DAY_SQL, params={"start_us": start_us, "gap_us": DAY_US // n, "recorded": recorded.num_rows, "first": day * per_day, "rows": n}
        ).to_arrow_table()
        arrow = arrow.append_column("vendor_data", pa.nulls(arrow.num_rows, schema.field("vendor_data").type))
        gold.append(arrow.cast(schema), snapshot_properties={ROWS_PROPERTY: str(rows)} if day == days - 1 else {})
        progress(f"gold_trades: day {day + 1}/{days} written ({n:,} rows)")
    if minute_bars:
        build_bars(QueryEngine(catalog, namespace), "1m", end_day_us - days * DAY_US, end_day_us)
        progress("ohlcv_1m written")


def built_rows(catalog: Catalog, namespace: str) -> int | None:
    """Rows of the benchmark table already built in this catalog (None when absent or unfinished)."""
    try:
        snapshot = load(catalog, namespace, "gold_trades").current_snapshot()
    except Exception:
        return None
    value = snapshot.summary[ROWS_PROPERTY] if snapshot and snapshot.summary else None
    return int(value) if value else None
