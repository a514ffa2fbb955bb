"""Query results as plain rows, and their JSON form: decimals as exact strings, times as ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def arrow_rows(table: pa.Table) -> list[dict]:
    """Rows as dicts; timestamps become µs since the epoch (the unit of the Avro record), decimals stay Decimal."""
    columns = {name: pc.cast(col, pa.int64()) if pa.types.is_timestamp(col.type) else col for name, col in zip(table.column_names, table.columns)}
    return pa.table(columns).to_pylist() if columns else []


def decimal_text(value: Decimal) -> str:
    """Plain notation without trailing zeros, never an exponent and never rounded: '0.0000001234', '100'."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def iso_us(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:06d}Z"


def us_of(moment: datetime) -> int:
    """µs since the epoch of an aware datetime (exact: no float on the way)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def json_row(row: dict, time_columns: frozenset[str]) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = decimal_text(value)
        elif key in time_columns and value is not None:
            out[key] = iso_us(value)
        else:
            out[key] = value
    return out
