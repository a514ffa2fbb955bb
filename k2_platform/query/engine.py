"""DuckDB over Iceberg: pyiceberg plans the files of one snapshot, DuckDB reads them.

SQL given to `QueryEngine.run` names its input `{source}`; every value is a named parameter
(`$symbol`), never text spliced into the statement. `{source}` becomes `read_parquet($k2_files)`
over the planned files, or, when DuckDB alone would be wrong or unable (Iceberg v2 delete files,
files outside the local filesystem), an Arrow table read by pyiceberg with deletes applied.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.io.pyarrow import ArrowScan

from ..lakehouse.catalog import open_catalog
from ..settings import Settings
from .planner import FilePlan, PlanCache, PlannedFile
from .recent_window import RecentWindow
from .snapshots import PinnedTable, TableCache

FILES_PARAM = "k2_files"
_arrow_names = itertools.count()


def read_with_pyiceberg(pinned: PinnedTable, files: Iterable[PlannedFile]) -> pa.Table:
    """Read planned files through pyiceberg: applies v2 deletes, works on any FileIO (S3 too)."""
    schema = pinned.table.schema()
    scan = ArrowScan(pinned.table.metadata, pinned.table.io, schema, AlwaysTrue())
    tasks = [f.task for f in files]
    return scan.to_table(tasks) if tasks else schema.as_arrow().empty_table()


class QueryEngine:
    def __init__(
        self,
        catalog: Catalog,
        namespace: str,
        *,
        table_refresh_s: float = 0.25,
        plan_cache_entries: int = 512,
        recent_window_h: int = 2,
        connection: duckdb.DuckDBPyConnection | None = None,
    ):
        self.tables = TableCache(catalog, namespace, table_refresh_s)
        self.plans = PlanCache(plan_cache_entries)
        self.recent = RecentWindow(recent_window_h)
        self._db = connection if connection is not None else duckdb.connect()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Catalog | None = None, connection: duckdb.DuckDBPyConnection | None = None) -> QueryEngine:
        """`connection` lets a Dagster `DuckDBResource` connection (or a notebook's) run the reads."""
        q = settings.query
        return cls(
            catalog or open_catalog(settings),
            settings.catalog.namespace,
            table_refresh_s=q.table_refresh_s,
            plan_cache_entries=q.plan_cache_entries,
            recent_window_h=q.recent_window_h,
            connection=connection,
        )

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor owned by the calling thread (one connection is not safe to share)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._db.cursor()
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
            self._cursors.append(cur)
        return cur

    def close(self) -> None:
        for cur in self._cursors:
            cur.close()
        self._cursors.clear()
        self._local = threading.local()

    def pin(self, name: str, snapshot_id: int | None = None, *, fresh: bool = False) -> PinnedTable:
        return self.tables.pin(name, snapshot_id, fresh=fresh)

    def plan(self, pinned: PinnedTable, row_filter: BooleanExpression = AlwaysTrue()) -> FilePlan:
        return self.plans.plan(pinned, row_filter)

    def run(self, pinned: PinnedTable, files: Iterable[PlannedFile], sql: str, params: Mapping[str, object] | None = None) -> pa.Table:
        """Run `sql` (input named `{source}`) over `files` of `pinned`; result as an Arrow table."""
        files = tuple(files)
        cur = self.cursor()
        bound = dict(params or {})
        if files and FilePlan(pinned, files).duckdb_readable:
            bound[FILES_PARAM] = [f.local_path for f in files]
            return cur.sql(sql.replace("{source}", f"read_parquet(${FILES_PARAM})"), params=bound).to_arrow_table()
        name = f"k2_arrow_{next(_arrow_names)}"
        cur.register(name, read_with_pyiceberg(pinned, files))
        try:
            return cur.sql(sql.replace("{source}", name), params=bound).to_arrow_table()
        finally:
            cur.unregister(name)

    def query(
        self,
        table: str,
        sql: str,
        params: Mapping[str, object] | None = None,
        row_filter: BooleanExpression = AlwaysTrue(),
        snapshot_id: int | None = None,
    ) -> pa.Table:
        """Plan `table` with `row_filter` (pruning only: repeat the predicate in `sql`) and run `sql`."""
        pinned = self.pin(table, snapshot_id)
        return self.run(pinned, self.plan(pinned, row_filter).files, sql, params)
