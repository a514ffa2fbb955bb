"""The `instruments` table: the reference data of schemas/instruments.json, one row per venue spelling."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.catalog import Catalog

from ..schemas.decimals import to_scale
from ..schemas.instruments import InstrumentRegistry
from .tables import load


def instrument_rows(registry: InstrumentRegistry) -> list[dict]:
    return sorted(
        (
            {
                "symbol": inst.symbol,
                "exchange": venue,
                "exchange_symbol": spelling,
                "base": inst.base,
                "quote": inst.quote,
                "tick_size": to_scale(inst.tick_size),
                "lot_size": to_scale(inst.lot_size),
            }
            for inst in registry.instruments.values()
            for venue, spellings in inst.venue_symbols.items()
            for spelling in spellings
        ),
        key=lambda r: (r["symbol"], r["exchange"], r["exchange_symbol"]),
    )


def sync_instruments(catalog: Catalog, namespace: str, registry: InstrumentRegistry) -> bool:
    """Make the table equal the reference data; returns whether it had to change (no empty snapshots)."""
    table = load(catalog, namespace, "instruments")
    wanted = instrument_rows(registry)
    current = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: (r["symbol"], r["exchange"], r["exchange_symbol"]))
    if current == wanted:
        return False
    table.overwrite(pa.Table.from_pylist(wanted, schema=table.schema().as_arrow()))
    return True
