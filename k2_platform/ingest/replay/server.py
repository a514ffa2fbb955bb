"""The replay exchange server: Binance and Kraken WebSocket protocols and their REST history, one port."""

from __future__ import annotations

import asyncio
import http
import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from ..recording import Timeline, load_recordings, rebased
from . import binance_protocol, kraken_protocol
from .faults import FaultPlan
from .state import ReplayConfig, ReplayState
from .streaming import POLICY_VIOLATION, ReplayConnection

log = logging.getLogger(__name__)
_REST = {"/api/v3/historicalTrades": binance_protocol.historical_trades, "/0/public/Trades": kraken_protocol.trades_history}


def replay_config(
    recordings: list[Path],
    speed: float | None = None,
    loops: int = 1,
    faults: FaultPlan | None = None,
    kraken_pairs: dict[str, str] | None = None,
    first_trade_ms: int | None = None,
) -> ReplayConfig:
    """first_trade_ms: shift the recordings so their first trade happens then (loops continue forward from it)."""
    recorded = load_recordings(recordings)
    if first_trade_ms is not None:
        recorded = rebased(recorded, first_trade_ms)
    timelines = {symbol: Timeline(trades, loops) for symbol, trades in recorded.items()}
    return ReplayConfig(timelines=timelines, speed=speed, faults=faults or FaultPlan(), kraken_pairs=kraken_pairs or {})


class ReplayServer:
    def __init__(self, config: ReplayConfig, host: str, port: int, ping_interval_s: float, heartbeat_s: float):
        self.state = ReplayState(config)
        self.host, self.port = host, port
        self.ping_interval_s = ping_interval_s
        self.heartbeat_s = heartbeat_s
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._rest,
            compression=None,
            ping_interval=self.ping_interval_s,
            ping_timeout=None,
            max_queue=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _rest(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        endpoint = _REST.get(parts.path)
        if endpoint is None:
            if parts.path in ("/stream", "/v2") or parts.path.startswith("/ws/"):
                return None  # WebSocket handshake
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        status, body = endpoint(self.state, parts.query)
        response = connection.respond(status, body)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        conn = ReplayConnection(ws, self.state)
        path = ws.request.path
        if path.startswith("/v2"):
            await kraken_protocol.serve_v2(conn, self.heartbeat_s)
        elif path.startswith(("/stream", "/ws/")):
            await binance_protocol.serve_streams(conn, path)
        else:
            await ws.close(POLICY_VIOLATION, "unknown path")


class ReplayServerThread:
    """A replay server on its own event loop in a background thread (tests, benchmarks)."""

    def __init__(self, server: ReplayServer):
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="k2-replay", daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=30)
        return self.server

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
