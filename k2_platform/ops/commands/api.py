"""`k2 api`: serve the REST API (FastAPI on uvicorn); OpenAPI at /docs and /openapi.json."""

from __future__ import annotations


def _serve(args, settings) -> int:
    import uvicorn

    from ...query.api import create_app

    host = args.host or settings.query.api_host
    port = args.port or settings.query.api_port
    workers = args.workers or settings.query.api_workers
    # Several workers each import the app from settings in the environment (each holds its own caches).
    app = "k2_platform.query.api:app_from_environment" if workers > 1 else create_app(settings)
    uvicorn.run(app, factory=workers > 1, workers=workers, host=host, port=port, log_level=args.log_level, access_log=args.access_log)
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "api",
        help="serve the REST API (trades, recent trades, OHLCV, symbols, summary, health, metrics)",
        description="Serve K2's REST API. Host and port default to settings (K2_QUERY__API_HOST, K2_QUERY__API_PORT).",
    )
    p.add_argument("--host", help="bind address (default: settings query.api_host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: settings query.api_port, 8686)")
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: settings query.api_workers, 1); each holds its own recent-trades window and Kafka tail reader",
    )
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"), help="uvicorn log level")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=_serve)
