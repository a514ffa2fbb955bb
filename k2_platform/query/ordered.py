"""The first N rows in (time, id) order without reading every file.

Files are visited from the newest (or oldest) by their column-stats bound on the order column, in
batches that double; the walk stops once N rows are held and no remaining file can hold a row
that ranks before the N-th. "Last 1,000 trades" on a 10M-row table so reads one or two files.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from .engine import QueryEngine
from .planner import FilePlan, PlannedFile

_UNBOUNDED = float("inf")


def _bound(f: PlannedFile, column: str, descending: bool) -> float | int:
    # A file without stats may hold anything: it sorts first and never ends the walk.
    if descending:
        return f.upper.get(column, _UNBOUNDED)
    return -f.lower.get(column, -_UNBOUNDED)


def ordered_rows(
    engine: QueryEngine,
    plan: FilePlan,
    *,
    columns: str,
    where: str,
    params: Mapping[str, object],
    limit: int,
    descending: bool,
    order_column: str,
    tiebreak: str | tuple[str, ...],
) -> pa.Table:
    """Up to `limit` rows matching `where`, sorted by (order_column, *tiebreak); `where` and `columns` are
    K2's own SQL fragments, values only through `params`."""
    direction = "DESC" if descending else "ASC"
    order = (order_column, *((tiebreak,) if isinstance(tiebreak, str) else tiebreak))
    sql = f"SELECT {columns} FROM {{source}} WHERE {where} ORDER BY {', '.join(f'{c} {direction}' for c in order)} LIMIT $k2_limit"
    bound_params = {**params, "k2_limit": limit}
    sort_keys = [(c, "descending" if descending else "ascending") for c in order]
    files = sorted(plan.files, key=lambda f: _bound(f, order_column, descending), reverse=True)
    held = engine.run(plan.pinned, (), sql, bound_params) if not files else None
    start, batch = 0, 1
    while start < len(files):
        if held is not None and held.num_rows >= limit:
            edge = pc.cast(held.column(order_column), pa.int64())[limit - 1].as_py()
            edge = edge if descending else -edge
            if _bound(files[start], order_column, descending) < edge:
                break
        chunk = files[start : start + batch]
        start, batch = start + batch, batch * 2
        part = engine.run(plan.pinned, chunk, sql, bound_params)
        held = part if held is None else pa.concat_tables([held, part])
        held = held.sort_by(sort_keys).slice(0, limit)
    return held
