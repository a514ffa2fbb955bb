"""K2's REST API (FastAPI): `create_app(settings)`; served by `k2 api`."""

from .app import app_from_environment, create_app

__all__ = ["app_from_environment", "create_app"]
