"""Access to the Iceberg catalog of the configured profile."""
from __future__ import annotations

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.catalog.sql import SqlCatalog

from ..settings import Settings


class CatalogUnavailable(RuntimeError):
    pass


def s3_properties(settings: Settings) -> dict[str, str]:
    c = settings.catalog
    return {
        "s3.endpoint": c.s3_endpoint,
        "s3.access-key-id": c.access_key,
        "s3.secret-access-key": c.secret_key,
        "s3.region": c.region,
        "s3.path-style-access": "true",
    }


def open_catalog(settings: Settings) -> Catalog:
    """Open the catalog; an unreachable one is a one-line error naming the cause and the fix."""
    c = settings.catalog
    try:
        if c.profile == "s3":
            return RestCatalog(c.name, uri=c.rest_uri, warehouse=f"s3://{c.bucket}", **s3_properties(settings))
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        settings.warehouse_path.mkdir(parents=True, exist_ok=True)
        return SqlCatalog(c.name, uri=settings.catalog_sql_uri, warehouse=settings.warehouse_path.resolve().as_uri())
    except Exception as exc:
        fix = "run `k2 up --profile s3`" if c.profile == "s3" else "check K2_CATALOG__SQL_URI and that its directory is writable"
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CatalogUnavailable(
            f"Iceberg catalog at {settings.catalog_uri} is unreachable ({type(exc).__name__}: {cause}); {fix}"
        ) from exc
