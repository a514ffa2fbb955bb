"""Creating and opening K2's tables: idempotent, and loud about a mismatched existing table."""

from __future__ import annotations

import logging

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError, TableAlreadyExistsError
from pyiceberg.table import Table

from .table_specs import ALL_TABLES, SPECS, TableSpec

log = logging.getLogger(__name__)


class SchemaMismatch(RuntimeError):
    pass


def _shape(schema) -> list[tuple[str, str, bool]]:
    # Compare by name, type and nullability: field ids are assigned by the catalog.
    return [(f.name, str(f.field_type).replace(" ", ""), f.required) for f in schema.fields]


def _partition_shape(table: Table) -> list[tuple[str, str]]:
    schema = table.schema()
    return [(schema.find_column_name(f.source_id), str(f.transform)) for f in table.spec().fields]


def _check_matches(table: Table, spec: TableSpec, identifier: str) -> None:
    expected, actual = _shape(spec.schema()), _shape(table.schema())
    if expected != actual:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        raise SchemaMismatch(
            f"table {identifier} exists with a different schema (expected but absent: {missing}; present but "
            f"unexpected: {extra}); migrate it or drop it deliberately, K2 will not recreate it"
        )
    expected_parts = [(c, str(t)) for c, t in spec.partition]
    if _partition_shape(table) != expected_parts:
        raise SchemaMismatch(f"table {identifier} is partitioned by {_partition_shape(table)}, expected {expected_parts}")


def ensure_table(catalog: Catalog, namespace: str, spec: TableSpec) -> Table:
    identifier = f"{namespace}.{spec.name}"
    try:
        table = catalog.load_table(identifier)
        if spec.derived:
            try:
                _check_matches(table, spec, identifier)
            except SchemaMismatch as mismatch:
                log.warning("%s; it is derived data, so it is dropped and recreated (backfill it from its sources)", mismatch)
                catalog.drop_table(identifier)
                raise NoSuchTableError(identifier) from None
    except NoSuchTableError:
        schema = spec.schema()
        try:
            table = catalog.create_table(
                identifier,
                schema=schema,
                partition_spec=spec.partition_spec(schema),
                sort_order=spec.sort_order(schema),
                properties=spec.table_properties(),
            )
        except TableAlreadyExistsError:  # created concurrently by another process
            table = catalog.load_table(identifier)
    _check_matches(table, spec, identifier)
    return table


def ensure_all_tables(catalog: Catalog, namespace: str) -> dict[str, Table]:
    try:
        catalog.create_namespace(namespace)
    except NamespaceAlreadyExistsError:
        pass
    return {spec.name: ensure_table(catalog, namespace, spec) for spec in ALL_TABLES}


def load(catalog: Catalog, namespace: str, name: str) -> Table:
    if name not in SPECS:
        raise KeyError(f"unknown K2 table {name!r}; known: {', '.join(sorted(SPECS))}")
    return catalog.load_table(f"{namespace}.{name}")
