"""Rows rendered to JSON text inside DuckDB, once per row: decimals as exact strings, times ISO 8601 UTC.

Rendering is vectorized where the rows are produced (the recent-window cache, the Kafka tail buffer,
a page read from files), so answering a request joins ready strings instead of building one Python
object per value. The text matches `rows.json_row` exactly: DuckDB prints DECIMAL as plain digits
at the column's scale (never an exponent), and trailing fraction zeros are stripped as `decimal_text` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import duckdb
import pyarrow as pa

JSON_COLUMN = "k2_json"
TIME_US_COLUMN = "k2_t"  # the order column as µs since the epoch (plain int64, cheap to compare)
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
_names = itertools.count()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _value_sql(name: str, dtype: pa.DataType) -> str:
    column = _quoted(name)
    if pa.types.is_decimal(dtype) and dtype.scale > 0:
        return f"rtrim(rtrim(CAST({column} AS VARCHAR), '0'), '.')"
    if pa.types.is_decimal(dtype):
        return f"CAST({column} AS VARCHAR)"
    if pa.types.is_timestamp(dtype):
        return f"strftime({column}, '{_ISO}')"
    return column


def json_select(schema: pa.Schema, columns: Iterable[str]) -> str:
    """A SQL expression rendering `columns` of a row of `schema` as one JSON object text."""
    fields = ", ".join(f"{_quoted(c)} := {_value_sql(c, schema.field(c).type)}" for c in columns)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


def with_json(cursor: duckdb.DuckDBPyConnection, table: pa.Table, columns: tuple[str, ...], order_column: str) -> pa.Table:
    """`table` plus its rows' JSON text and `order_column` as µs: the form the caches hold."""
    name = f"k2_render_{next(_names)}"
    cursor.register(name, table)
    try:
        return cursor.sql(
            f"SELECT *, {json_select(table.schema, columns)} AS {JSON_COLUMN}, epoch_us({_quoted(order_column)}) AS {TIME_US_COLUMN} FROM {name}"
        ).to_arrow_table()
    finally:
        cursor.unregister(name)


def json_array(texts: Iterable[str]) -> str:
    return "[" + ",".join(texts) + "]"
