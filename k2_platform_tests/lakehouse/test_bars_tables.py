"""The bar tables are derived: one of an older layout (before the kline columns) is dropped and recreated,
while a mismatched table holding source data still stops `ensure_table`."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pyiceberg.transforms import DayTransform
from pyiceberg.types import LongType, StringType

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.table_specs import DECIMAL, GOLD, OHLCV, TS
from k2_platform.lakehouse.tables import SchemaMismatch, ensure_all_tables, ensure_table
from k2_platform.settings import Settings

OLD_BARS = (("symbol", StringType(), True), ("bucket_start", TS, True), ("open", DECIMAL, True), ("trade_count", LongType(), True))


def test_an_old_bar_table_is_recreated_but_a_source_table_is_not_touched(tmp_path):
    catalog = open_catalog(Settings(state_dir=tmp_path / "state"))
    catalog.create_namespace("market")
    ensure_table(
        catalog,
        "market",
        replace(OHLCV["1m"], columns=OLD_BARS, partition=(("bucket_start", DayTransform()),), sort=("bucket_start",), derived=False),
    )
    tables = ensure_all_tables(catalog, "market")
    assert [f.name for f in tables["ohlcv_1m"].schema().fields] == [c[0] for c in OHLCV["1m"].columns]
    assert [str(f.transform) for f in tables["ohlcv_1m"].spec().fields] == ["hour"]
    with pytest.raises(SchemaMismatch):
        ensure_table(catalog, "market", replace(GOLD, columns=GOLD.columns[:-1]))
