"""Prometheus metrics of the API: requests by route and status, latency by route."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ApiMetrics:
    """ASGI middleware recording every HTTP request; one registry per app so apps never collide."""

    def __init__(self, app, registry: CollectorRegistry):
        self.app = app
        self.requests = Counter("k2_api_requests", "API requests", ("method", "route", "status"), registry=registry)
        self.latency = Histogram("k2_api_request_seconds", "API request latency", ("method", "route"), buckets=_BUCKETS, registry=registry)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [500]

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            # The route template, not the raw path: bounded label cardinality.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], route, str(status[0])).inc()
            self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)
