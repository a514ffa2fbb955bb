from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from pyiceberg.types import DecimalType, StringType

from k2_platform.lakehouse.catalog import CatalogUnavailable, open_catalog
from k2_platform.lakehouse.table_specs import ALL_TABLES, GOLD
from k2_platform.lakehouse.tables import SchemaMismatch, ensure_all_tables, ensure_table
from k2_platform.settings import CatalogSettings, Settings

EXPECTED_PARTITIONS = {
    "bronze_trades": [("ingest_time", "day")],
    "silver_trades_binance": [("trade_time", "day"), ("symbol", "identity")],
    "silver_trades_kraken": [("trade_time", "day"), ("symbol", "identity")],
    "trades_dlq": [("failed_at", "day")],
    "gold_trades": [("trade_time", "hour")],
    "feed_gaps": [("detected_at", "day")],
    "instruments": [],
    "ohlcv_1m": [("open_time", "hour")],
    "ohlcv_1h": [("open_time", "day")],
    "ohlcv_1d": [("open_time", "day")],
}


@pytest.fixture
def sql_settings(tmp_path) -> Settings:
    return Settings(state_dir=tmp_path / "state")


def partition_shape(table):
    schema = table.schema()
    return [(schema.find_column_name(f.source_id), str(f.transform)) for f in table.spec().fields]


def test_every_table_is_created_with_its_partitioning_format_and_codec(sql_settings):
    tables = ensure_all_tables(open_catalog(sql_settings), "market")
    assert sorted(tables) == sorted(EXPECTED_PARTITIONS)
    for name, table in tables.items():
        assert partition_shape(table) == EXPECTED_PARTITIONS[name], name
        assert table.format_version == 2
        assert table.properties["write.parquet.compression-codec"] == "zstd"
    gold = tables["gold_trades"]
    assert [gold.schema().find_column_name(f.source_id) for f in gold.sort_order().fields] == ["trade_time", "trade_id"]
    assert gold.schema().find_field("price").field_type == DecimalType(38, 18)
    assert gold.properties["commit.retry.num-retries"] == "0"
    assert "commit.retry.num-retries" not in tables["instruments"].properties


def test_creation_is_idempotent(sql_settings):
    catalog = open_catalog(sql_settings)
    first = ensure_all_tables(catalog, "market")
    second = ensure_all_tables(catalog, "market")
    assert {n: t.metadata.table_uuid for n, t in first.items()} == {n: t.metadata.table_uuid for n, t in second.items()}


def test_existing_table_with_other_schema_is_a_clear_error_not_a_recreate(sql_settings):
    catalog = open_catalog(sql_settings)
    catalog.create_namespace("market")
    catalog.create_table("market.gold_trades", schema=pa.schema([pa.field("message_id", pa.string(), nullable=False)]))
    with pytest.raises(SchemaMismatch, match="market.gold_trades exists with a different schema"):
        ensure_table(catalog, "market", GOLD)
    assert catalog.load_table("market.gold_trades").schema().find_field("message_id").field_type == StringType()
    assert len(catalog.load_table("market.gold_trades").schema().fields) == 1


def test_gold_write_and_read_back_exact_decimals(sql_settings):
    gold = ensure_all_tables(open_catalog(sql_settings), "market")["gold_trades"]
    at = datetime(2024, 8, 8, 23, 59, 59, 999999, tzinfo=UTC)
    row = {
        "message_id": "m1",
        "exchange": "binance",
        "symbol": "SHIBUSDT",
        "exchange_symbol": "SHIBUSDT",
        "base": "SHIB",
        "quote": "USDT",
        "trade_id": "1",
        "price": Decimal("0.0000001234"),
        "quantity": Decimal("46116860414"),
        "quote_quantity": Decimal("5690.8205750876"),
        "side": "BUY",
        "trade_time": at,
        "event_time": None,
        "ingest_time": at,
        "sequence": 1,
        "schema_version": 2,
        "vendor_data": [("M", "true")],
    }
    gold.append(pa.Table.from_pylist([row], schema=gold.schema().as_arrow()))
    back = gold.refresh().scan().to_arrow().to_pylist()
    assert len(back) == 1
    assert back[0]["price"] == Decimal("0.0000001234")
    assert back[0]["quantity"] == Decimal("46116860414")
    assert back[0]["trade_time"] == at
    assert back[0]["vendor_data"] == [("M", "true")]
    assert [t.file.partition[0] for t in gold.scan().plan_files()] == [int(at.timestamp()) // 3600]


def test_unreachable_catalog_is_a_one_line_error(tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    settings = Settings(state_dir=tmp_path, catalog=CatalogSettings(sql_uri=f"sqlite:///{blocked}/catalog.db"))
    with pytest.raises(CatalogUnavailable) as info:
        open_catalog(settings)
    message = str(info.value)
    assert "\n" not in message
    assert f"sqlite:///{blocked}/catalog.db is unreachable" in message
    assert "check K2_CATALOG__SQL_URI" in message


def test_specs_cover_design_tables():
    assert [s.name for s in ALL_TABLES] == list(EXPECTED_PARTITIONS)
