"""Every client error is a 4xx with one body shape: {"error": {"code", "message", "parameter"}}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...lakehouse.catalog import CatalogUnavailable
from ..cursor import BadCursor
from ..service import UnknownSymbol
from ..snapshots import SnapshotExpired, TableMissing
from ..tail_reader import TailUnavailable


class ErrorDetail(BaseModel):
    code: str
    message: str
    parameter: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter


def error_response(status: int, code: str, message: str, parameter: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "parameter": parameter}}, status_code=status)


ERROR_RESPONSES = {
    400: {"model": ErrorBody, "description": "Invalid parameter (pattern, range, limit over the cap, malformed cursor)"},
    404: {"model": ErrorBody, "description": "Unknown symbol"},
    503: {"model": ErrorBody, "description": "Catalog or Kafka unavailable"},
}


def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    parameter = str(first["loc"][-1]) if first.get("loc") else None
    given = first.get("input")
    shown = f" (got {given!r:.80})" if given is not None and not isinstance(given, dict) else ""
    return error_response(400, "invalid_parameter", f"{parameter}: {first['msg']}{shown}", parameter)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, lambda _r, e: error_response(e.status, e.code, e.message, e.parameter))
    app.add_exception_handler(UnknownSymbol, lambda _r, e: error_response(404, "unknown_symbol", str(e.args[0]), "symbol"))
    app.add_exception_handler(BadCursor, lambda _r, e: error_response(400, "invalid_cursor", str(e), "cursor"))
    app.add_exception_handler(SnapshotExpired, lambda _r, e: error_response(410, "cursor_expired", f"{e}; restart from the first page", "cursor"))
    app.add_exception_handler(TailUnavailable, lambda _r, e: error_response(503, "kafka_unavailable", str(e)))
    app.add_exception_handler(TableMissing, lambda _r, e: error_response(503, "table_missing", str(e)))
    app.add_exception_handler(CatalogUnavailable, lambda _r, e: error_response(503, "catalog_unavailable", str(e)))
