"""The REST API over real Iceberg tables (and the real broker for the Kafka-backed endpoints)."""

from __future__ import annotations

import base64
from decimal import Decimal

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from k2_platform.lakehouse.tables import load
from k2_platform.query.api import create_app
from k2_platform.query.rows import iso_us

from .gold_fixtures import T0, append_gold, trade

HOUR = 3_600_000_000
BTC = [trade(i, t_us=T0 + i * 60_000_000) for i in range(1, 151)]  # one a minute: spans 3 hourly partitions
ETH = [trade(i, "ETHUSDT", price="2500.1234567890123456", t_us=T0 + i * 1000) for i in range(1, 6)]
SHIB = [trade(1, "SHIBUSDT", price="0.0000001234", quantity="46116860414", t_us=T0 + 5_000)]


@pytest.fixture
def client(settings, catalog):
    gold = load(catalog, settings.catalog.namespace, "gold_trades")
    append_gold(gold, BTC[:100] + ETH + SHIB, {})
    append_gold(gold, BTC[100:], {})
    bars = load(catalog, settings.catalog.namespace, "ohlcv_1m")
    one = {
        "open": Decimal("1.5"),
        "high": Decimal("2"),
        "low": Decimal("1"),
        "close": Decimal("1.75"),
        "volume": Decimal("10"),
        "quote_volume": Decimal("15"),
        "vwap": Decimal("1.5"),
        "trade_count": 3,
        "taker_buy_base_volume": Decimal("4"),
        "taker_buy_quote_volume": Decimal("6"),
    }
    minute = T0 // 60_000_000 * 60_000_000
    bars.append(
        pa.Table.from_pylist(
            [
                {
                    "exchange": "binance",
                    "symbol": "BTCUSDT",
                    "open_time": minute + m * 60_000_000,
                    "close_time": minute + (m + 1) * 60_000_000 - 1,
                    **one,
                }
                for m in range(30)
            ],
            schema=bars.schema().as_arrow(),
        )
    )
    settings = settings.model_copy(update={"query": settings.query.model_copy(update={"max_limit": 50})})
    with TestClient(create_app(settings)) as c:
        yield c


def _error(response, status: int, code: str, parameter: str | None = None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and (parameter is None or error["parameter"] == parameter)
    return error["message"]


def test_trades_pages_through_a_range_exactly_once_with_exact_decimals(client):
    params = {"symbol": "BTCUSDT", "start": iso_us(T0 + 10 * 60_000_000), "end": iso_us(T0 + 140 * 60_000_000), "limit": 50}
    seen, cursor = [], None
    while True:
        body = client.get("/v1/trades", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [int(t["trade_id"]) for t in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(range(10, 140))  # start inclusive, end exclusive, no page overlap
    first = client.get("/v1/trades", params={**params, "limit": 1}).json()["data"][0]
    assert (first["price"], first["quantity"], first["quote_quantity"]) == ("61837.63", "0.02", "1236.7526")
    assert first["trade_time"] == iso_us(T0 + 10 * 60_000_000)
    shib = client.get("/v1/trades", params={"symbol": "SHIBUSDT"}).json()["data"][0]
    assert (shib["price"], shib["quantity"], shib["quote_quantity"]) == ("0.0000001234", "46116860414", "5690.8205750876")


def test_trades_bad_parameters_are_clear_400s(client):
    base = {"symbol": "BTCUSDT"}
    assert "unknown symbol 'NOPEUSDT'" in _error(client.get("/v1/trades", params={"symbol": "NOPEUSDT"}), 404, "unknown_symbol", "symbol")
    _error(client.get("/v1/trades", params={**base, "start": "2024-08-09T00:00:00Z", "end": "2024-08-08T00:00:00Z"}), 400, "invalid_time_range")
    assert "less than or equal to 50" in _error(client.get("/v1/trades", params={**base, "limit": 51}), 400, "invalid_parameter", "limit")
    _error(client.get("/v1/trades", params={**base, "limit": 0}), 400, "invalid_parameter", "limit")
    _error(client.get("/v1/trades", params={**base, "cursor": "not-a-cursor"}), 400, "invalid_cursor", "cursor")
    forged = base64.urlsafe_b64encode(b'{"v":1,"s":1,"t":"x","m":"m","q":"q"}').decode()
    _error(client.get("/v1/trades", params={**base, "cursor": forged}), 400, "invalid_cursor", "cursor")
    cursor = client.get("/v1/trades", params={**base, "limit": 1}).json()["next_cursor"]
    assert "different query" in _error(client.get("/v1/trades", params={"symbol": "ETHUSDT", "cursor": cursor}), 400, "invalid_cursor")
    for sql_like in ("BTCUSDT' OR '1'='1", "BTCUSDT;DROP TABLE gold_trades", "x') UNION SELECT * FROM instruments--"):
        _error(client.get("/v1/trades", params={"symbol": sql_like}), 400, "invalid_parameter", "symbol")
    _error(client.get("/v1/trades", params={**base, "exchange": "binance' --"}), 400, "invalid_parameter", "exchange")
    _error(client.get("/v1/trades", params={**base, "start": "yesterday; select 1"}), 400, "invalid_parameter", "start")
    _error(client.get("/v1/trades"), 400, "invalid_parameter", "symbol")


def test_ohlcv_returns_bars_of_the_interval_table(client):
    start = T0 // 60_000_000 * 60_000_000
    body = client.get(
        "/v1/ohlcv", params={"symbol": "BTCUSDT", "interval": "1m", "start": iso_us(start + 5 * 60_000_000), "end": iso_us(start + 15 * 60_000_000)}
    ).json()
    assert [b["open_time"] for b in body["data"]] == [iso_us(start + m * 60_000_000) for m in range(5, 15)]
    assert body["data"][0] | {"open_time": None, "close_time": None} == {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "open_time": None,
        "close_time": None,
        "open": "1.5",
        "high": "2",
        "low": "1",
        "close": "1.75",
        "volume": "10",
        "quote_volume": "15",
        "vwap": "1.5",
        "trade_count": 3,
        "taker_buy_base_volume": "4",
        "taker_buy_quote_volume": "6",
    }
    assert body["data"][0]["close_time"] == iso_us(start + 6 * 60_000_000 - 1)
    assert (
        client.get("/v1/ohlcv", params={"symbol": "BTCUSDT", "interval": "1h", "start": iso_us(start), "end": iso_us(start + HOUR)}).json()["data"]
        == []
    )
    _error(client.get("/v1/ohlcv", params={"symbol": "BTCUSDT", "interval": "5m"}), 400, "invalid_parameter", "interval")
    _error(client.get("/v1/ohlcv", params={"symbol": "BTCUSDT", "start": iso_us(start + HOUR), "end": iso_us(start)}), 400, "invalid_time_range")
    _error(client.get("/v1/ohlcv", params={"symbol": "ZZZ"}), 404, "unknown_symbol")


def test_symbols_from_reference_then_from_the_instruments_table(client, settings, catalog):
    symbols = {s["symbol"]: s for s in client.get("/v1/symbols").json()["data"]}
    assert symbols["BTCUSD"]["venues"] == {"kraken": ["BTC/USD", "XBT/USD"]}
    assert symbols["PEPEUSDT"]["tick_size"] == "0.0000000001"
    instruments = load(catalog, settings.catalog.namespace, "instruments")
    instruments.append(
        pa.Table.from_pylist(
            [
                {
                    "symbol": "DOGEUSDT",
                    "exchange": "binance",
                    "exchange_symbol": "DOGEUSDT",
                    "base": "DOGE",
                    "quote": "USDT",
                    "tick_size": Decimal("0.00001"),
                    "lot_size": Decimal("1"),
                }
            ],
            schema=instruments.schema().as_arrow(),
        )
    )
    client.app.state.service.engine.tables.refresh_s = 0  # see the new snapshot now
    assert [s["symbol"] for s in client.get("/v1/symbols").json()["data"]] == ["DOGEUSDT"]
    assert client.get("/v1/trades", params={"symbol": "DOGEUSDT"}).json()["data"] == []
    _error(client.get("/v1/trades", params={"symbol": "BTCUSDT"}), 404, "unknown_symbol")


def test_summary_is_exact_over_the_window(client):
    body = client.get("/v1/summary", params={"as_of": iso_us(T0 + 120 * 60_000_000 + 1)}).json()
    rows = {r["symbol"]: r for r in body["data"]}
    assert set(rows) == {"BTCUSDT", "ETHUSDT", "SHIBUSDT"}
    assert rows["BTCUSDT"]["trade_count"] == 120 and rows["BTCUSDT"]["volume"] == "2.4"
    eth = "2500.1234567890123456"
    assert rows["ETHUSDT"] == {
        "symbol": "ETHUSDT",
        "trade_count": 5,
        "volume": "0.1",
        "quote_volume": "250.01234567890123456",
        "vwap": eth,
        "open": eth,
        "high": eth,
        "low": eth,
        "close": eth,
        "first_trade_time": iso_us(T0 + 1000),
        "last_trade_time": iso_us(T0 + 5000),
    }
    assert body["window_end"] == iso_us(T0 + 120 * 60_000_000 + 1)
    assert client.get("/v1/summary", params={"as_of": iso_us(T0 - 25 * HOUR)}).json()["data"] == []


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/v1/trades", params={"symbol": "NOPE1"})
    client.get("/v1/symbols")
    text = client.get("/metrics").text
    assert 'k2_api_requests_total{method="GET",route="/v1/trades",status="404"} 1.0' in text
    assert 'k2_api_requests_total{method="GET",route="/v1/symbols",status="200"} 1.0' in text
    assert "k2_api_request_seconds_bucket" in text


def test_openapi_documents_decimals_as_strings(client):
    schema = client.get("/openapi.json").json()
    price = schema["components"]["schemas"]["Trade"]["properties"]["price"]
    assert price["type"] == "string" and "Exact decimal" in price["description"]
    assert {"/v1/trades", "/v1/trades/recent", "/v1/ohlcv", "/v1/symbols", "/v1/summary", "/health", "/metrics"} <= set(schema["paths"])


@pytest.mark.integration
def test_recent_trades_and_health_use_the_broker(client, settings):
    body = client.get("/v1/trades/recent", params={"symbol": "BTCUSDT", "limit": 3}).json()
    assert [t["trade_id"] for t in body["data"]] == ["150", "149", "148"]
    assert body["tail_records"] == 0 and body["kafka_offsets"] == {}
    _error(client.get("/v1/trades/recent", params={"symbol": "BTCUSDT", "limit": 51}), 400, "invalid_parameter", "limit")
    _error(client.get("/v1/trades/recent", params={"symbol": "BTC USDT"}), 400, "invalid_parameter", "symbol")
    health = client.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["broker"]["ok"] and health.json()["catalog"]["ok"] and health.json()["gold_freshness"]["ok"]
    assert health.json()["degradation"]["level"] == "NORMAL"  # never evaluated: no state file yet


def test_health_reports_an_unreachable_broker_as_503(settings, catalog):
    from k2_platform.ops.processes import free_port
    from k2_platform.settings import KafkaSettings

    dead = settings.model_copy(
        update={"kafka": KafkaSettings(port=free_port()), "query": settings.query.model_copy(update={"broker_timeout_s": 0.5})}
    )
    with TestClient(create_app(dead)) as c:
        response = c.get("/health")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False and response.json()["catalog"]["ok"] is True
    assert "no snapshot" in response.json()["gold_freshness"]["error"]
