"""Reading table rows by the Kafka positions they came from (the watermarks' unit)."""

from __future__ import annotations

import pyarrow as pa
from pyiceberg.expressions import And, BooleanExpression, EqualTo, GreaterThanOrEqual, LessThan, Or
from pyiceberg.table import Table

from .offsets import OffsetRange, TopicPartition


def position_filter(windows: dict[TopicPartition, tuple[int, int]], topic_col: str, partition_col: str, offset_col: str) -> BooleanExpression:
    clauses = [
        And(EqualTo(topic_col, t), EqualTo(partition_col, p), GreaterThanOrEqual(offset_col, lo), LessThan(offset_col, hi))
        for (t, p), (lo, hi) in windows.items()
    ]
    expr = clauses[0]
    for clause in clauses[1:]:
        expr = Or(expr, clause)
    return expr


def rows_in_range(table: Table, rng: OffsetRange, topic_col: str, partition_col: str, offset_col: str, columns: tuple[str, ...] = ("*",)) -> pa.Table:
    windows = {tp: (rng.start[tp], rng.end[tp]) for tp in rng.end}
    if not windows:
        empty = table.schema().as_arrow().empty_table()
        return empty if columns == ("*",) else empty.select(list(columns))
    return table.scan(row_filter=position_filter(windows, topic_col, partition_col, offset_col), selected_fields=columns).to_arrow()
