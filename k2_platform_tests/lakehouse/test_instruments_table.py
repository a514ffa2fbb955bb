from decimal import Decimal

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.instruments_table import sync_instruments
from k2_platform.lakehouse.tables import ensure_all_tables
from k2_platform.schemas.instruments import default_instruments
from k2_platform.settings import Settings


def test_instruments_table_mirrors_reference_data_once(tmp_path):
    catalog = open_catalog(Settings(state_dir=tmp_path))
    table = ensure_all_tables(catalog, "market")["instruments"]
    assert sync_instruments(catalog, "market", default_instruments()) is True
    assert sync_instruments(catalog, "market", default_instruments()) is False
    table = table.refresh()
    assert len(table.snapshots()) == 1
    rows = table.scan().to_arrow().to_pylist()
    btcusd = sorted(r["exchange_symbol"] for r in rows if r["symbol"] == "BTCUSD")
    assert btcusd == ["BTC/USD", "XBT/USD"]
    shib = [r for r in rows if r["symbol"] == "SHIBUSDT" and r["exchange"] == "binance"]
    assert len(shib) == 1 and shib[0]["tick_size"] == Decimal("0.00000001")
    assert len(rows) == 14  # 7 instruments, 14 venue spellings
