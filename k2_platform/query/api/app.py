"""The REST API: trades (paged and hybrid recent), OHLCV, symbols, summary, health, metrics.

User input reaches queries only as validated values bound as SQL parameters: symbols must be
letters and digits and known, times parse as datetimes, limits are capped by Settings.
"""

import json
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ...lakehouse.degradation_metrics import DegradationCollector
from ...settings import EXCHANGES, Settings, load_settings
from ..bars import INTERVAL_US, INTERVALS
from ..cursor import Cursor, decode_cursor, encode_cursor, query_fingerprint
from ..health import health
from ..render import JSON_COLUMN, json_array, with_json
from ..rows import iso_us, json_row, us_of
from ..service import QueryService
from ..summary import TIME_COLUMNS as SUMMARY_TIMES
from ..trades import TRADE_COLUMNS, TradeFilter
from . import errors, models
from .metrics import ApiMetrics

SYMBOL_PATTERN = r"^[A-Za-z0-9]{2,20}$"

Symbol = Annotated[str, Query(pattern=SYMBOL_PATTERN, description="Canonical symbol, e.g. BTCUSDT (see /v1/symbols)")]
Exchange = Annotated[Literal[EXCHANGES] | None, Query(description="Only trades of this exchange")]  # type: ignore[valid-type]
Start = Annotated[datetime | None, Query(description="Inclusive start (ISO 8601; no offset means UTC)")]
End = Annotated[datetime | None, Query(description="Exclusive end (ISO 8601; no offset means UTC)")]


def _json(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, separators=(",", ":")), status_code=status, media_type="application/json")


def _json_rows(rows: list[str], rest: dict) -> Response:
    """{"data": [rows already rendered as JSON], **rest}: the rows are joined, never re-encoded."""
    tail = json.dumps(rest, separators=(",", ":"))
    return Response('{"data":' + json_array(rows) + ("," + tail[1:] if rest else "}"), media_type="application/json")


def _us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return us_of(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _check_range(start_us: int | None, end_us: int | None) -> None:
    if start_us is not None and end_us is not None and start_us >= end_us:
        raise errors.ApiError(400, "invalid_time_range", f"start ({iso_us(start_us)}) must be before end ({iso_us(end_us)})", "start")


def create_app(settings: Settings, service: QueryService | None = None) -> FastAPI:
    owned = service is None
    service = service or QueryService(settings)
    cap = settings.query.max_limit

    @asynccontextmanager
    async def lifespan(_app):
        yield
        if owned:
            service.close()

    Limit = Annotated[int, Query(ge=1, le=cap, description=f"Rows to return, at most {cap}")]
    app = FastAPI(
        title="K2 market data API",
        version="1.0.0",
        responses=errors.ERROR_RESPONSES,
        lifespan=lifespan,
        description="Trades and bars from K2's Iceberg lakehouse; recent trades include the Kafka tail. "
        "Decimals are exact strings; times are ISO 8601 UTC.",
    )
    errors.install(app)
    registry = CollectorRegistry()
    registry.register(DegradationCollector(settings))
    app.add_middleware(ApiMetrics, registry=registry)
    app.state.service = service

    @app.get("/v1/trades", response_model=models.TradesPage, summary="Trades of a symbol in a time range, paged")
    def trades(
        symbol: Symbol,
        exchange: Exchange = None,
        start: Start = None,
        end: End = None,
        limit: Limit = settings.query.default_limit,
        cursor: Annotated[str | None, Query(max_length=512, description="Opaque cursor from the previous page")] = None,
    ):
        flt = TradeFilter(service.check_symbol(symbol), exchange, _us(start), _us(end))
        _check_range(flt.start_us, flt.end_us)
        fingerprint = query_fingerprint(flt.symbol, exchange, flt.start_us, flt.end_us)
        after = decode_cursor(cursor, fingerprint) if cursor else None
        page = service.trades(flt, limit, after.after if after else None, after.snapshot_id if after else None)
        next_cursor = None
        if page.next_after is not None:
            next_cursor = encode_cursor(Cursor(page.snapshot_id, page.next_after, fingerprint))
        rendered = with_json(service.engine.cursor(), page.rows, TRADE_COLUMNS, "trade_time")[JSON_COLUMN].to_pylist()
        return _json_rows(rendered, {"next_cursor": next_cursor, "snapshot_id": page.snapshot_id})

    @app.get("/v1/trades/recent", response_model=models.RecentTrades, summary="Latest trades: gold plus the Kafka tail, exact")
    def recent(symbol: Symbol, exchange: Exchange = None, limit: Limit = settings.query.default_limit):
        result = service.recent(TradeFilter(service.check_symbol(symbol), exchange), limit)
        return _json_rows(
            result.json_rows,
            {
                "snapshot_id": result.snapshot_id,
                "kafka_offsets": result.kafka_offsets,
                "kafka_end_offsets": result.kafka_end_offsets,
                "tail_records": result.tail_records,
            },
        )

    @app.get("/v1/ohlcv", response_model=models.Bars, summary="OHLCV bars of a symbol")
    def ohlcv(
        symbol: Symbol,
        interval: Annotated[Literal[INTERVALS], Query(description="Bar size")] = "1m",  # type: ignore[valid-type]
        start: Start = None,
        end: End = None,
        limit: Limit = settings.query.default_limit,
        exchange: Exchange = None,
    ):
        checked = service.check_symbol(symbol)
        end_us = _us(end) if end is not None else time.time_ns() // 1000
        start_us = _us(start) if start is not None else end_us - limit * INTERVAL_US[interval]
        _check_range(start_us, end_us)
        return _json_rows(service.ohlcv_json(checked, interval, start_us, end_us, limit, exchange), {"interval": interval})

    @app.get("/v1/symbols", response_model=models.Symbols, summary="Known symbols and their venue spellings")
    def symbols():
        return _json({"data": [json_row(r, frozenset()) for r in service.symbols()]})

    @app.get("/v1/summary", response_model=models.Summary, summary="Rolling-window statistics per symbol")
    def summary(as_of: Annotated[datetime | None, Query(description="Window end (default: now)")] = None):
        end_us = _us(as_of) if as_of is not None else time.time_ns() // 1000
        rows = service.summary(end_us)
        return _json(
            {
                "window_start": iso_us(end_us - settings.query.summary_window_h * 3_600_000_000),
                "window_end": iso_us(end_us),
                "data": [json_row(r, SUMMARY_TIMES) for r in rows],
            }
        )

    @app.get(
        "/health",
        response_model=models.Health,
        responses={503: {"model": models.Health}},
        summary="Broker, catalog, gold freshness (503 when any is not ok) and the degradation level",
    )
    def get_health():
        report = health(service)
        return _json(report, 200 if report["ok"] else 503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus exposition"}},
    )
    def metrics():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_environment() -> FastAPI:
    """The app for settings from the environment (K2_*, K2_CONFIG): the factory of multi-worker `k2 api`."""
    return create_app(load_settings())
