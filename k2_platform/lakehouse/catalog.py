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


def rest_properties(settings: Settings) -> dict[str, str]:
    c = settings.catalog
    return {
        "uri": c.rest_uri,
        # SeaweedFS serves one catalog per S3 table bucket; the warehouse names it.
        "warehouse": f"s3://{c.bucket}",
        # OAuth2 client credentials: the catalog trades the S3 key pair for a bearer token (valid
        # 1 h); pyiceberg fetches a new one when the server answers 401.
        "credential": f"{c.access_key}:{c.secret_key}",
        **s3_properties(settings),
    }


def _probed(catalog: RestCatalog) -> RestCatalog:
    # Opening only fetched a token and /v1/config, which succeed even when the warehouse (table
    # bucket) is missing; listing namespaces makes that fail here, not at the first table access.
    catalog.list_namespaces()
    return catalog


def open_catalog(settings: Settings) -> Catalog:
    """Open the catalog; an unreachable one is a one-line error naming the cause and the fix."""
    c = settings.catalog
    try:
        if c.profile == "s3":
            return _probed(RestCatalog(c.name, **rest_properties(settings)))
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        settings.warehouse_path.mkdir(parents=True, exist_ok=True)
        return SqlCatalog(c.name, uri=settings.catalog_sql_uri, warehouse=settings.warehouse_path.resolve().as_uri())
    except Exception as exc:
        fix = "run `k2 up --profile s3`" if c.profile == "s3" else "check K2_CATALOG__SQL_URI and that its directory is writable"
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CatalogUnavailable(f"Iceberg catalog at {settings.catalog_uri} is unreachable ({type(exc).__name__}: {cause}); {fix}") from exc
