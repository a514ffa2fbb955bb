"""K2's tables as DuckDB views named after them (`gold_trades`, `ohlcv_1m`, ...), for ad-hoc SQL.

Each view reads the files of the table's current snapshot, planned by pyiceberg; tables DuckDB
cannot read directly (delete files, remote storage) are registered as Arrow read by pyiceberg.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from ..lakehouse.table_specs import SPECS
from .engine import QueryEngine, read_with_pyiceberg
from .snapshots import TableMissing


def register_views(engine: QueryEngine, con: duckdb.DuckDBPyConnection, names: Iterable[str] | None = None) -> dict[str, int | None]:
    """Create or replace one view per existing table on `con`; returns the snapshot id each view reads."""
    pinned_ids = {}
    for name in names or sorted(SPECS):
        try:
            pinned = engine.pin(name)
        except TableMissing:
            continue
        plan = engine.plan(pinned)
        if plan.files and plan.duckdb_readable:
            con.read_parquet([f.local_path for f in plan.files]).create_view(name, replace=True)
        else:
            con.register(name, read_with_pyiceberg(pinned, plan.files))
        pinned_ids[name] = pinned.snapshot_id
    return pinned_ids
