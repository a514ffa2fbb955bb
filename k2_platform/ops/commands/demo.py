"""`k2 demo`: the main job on embedded defaults: stack up, then the Dagster UI and daemon."""
from __future__ import annotations

from ..stack import up
from . import dagster


def register(sub) -> None:
    p = sub.add_parser("demo", help="bring the local stack up and run the Dagster UI on it (Ctrl-C stops the UI)")
    p.add_argument("--port", type=int, default=3000, help="Dagster UI port (default 3000)")
    p.add_argument("--host", default="127.0.0.1", help="Dagster UI host (default 127.0.0.1)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    up(settings)
    return dagster.run(args, settings)
