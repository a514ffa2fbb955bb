"""The pricing file: list prices with their source and date, read as exact decimals."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

DEFAULT_FILE = Path(__file__).with_name("pricing.toml")
REQUIRED = {
    "instance": ("name", "vcpus", "per_hour"),
    "object_storage": ("per_gb_month",),
    "requests": ("put_per_1k", "get_per_1k"),
    "kafka_broker": ("name", "per_hour", "storage_per_gb_month"),
    "transfer": ("cross_az_per_gb",),
    "sizing": ("broker_write_mb_s", "consumers_per_topic", "reads_per_object_written", "metadata_objects_per_commit"),
}


class PricingError(ValueError):
    pass


def _exact(value):
    # TOML numbers arrive as floats: their shortest text is the decimal written in the file.
    return Decimal(str(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def load_pricing(path: str | Path = "") -> dict:
    """{section: {key: value}} with numbers as Decimal; every section must name its source and date."""
    path = Path(path) if path else DEFAULT_FILE
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PricingError(f"pricing file {path}: {exc}") from exc
    if "hours_per_month" not in raw:
        raise PricingError(f"pricing file {path}: hours_per_month is missing")
    prices = {"hours_per_month": _exact(raw["hours_per_month"]), "region": raw.get("region", ""), "file": str(path)}
    for section, keys in REQUIRED.items():
        given = raw.get(section)
        missing = [k for k in (*keys, "source", "as_of") if not isinstance(given, dict) or k not in given]
        if missing:
            raise PricingError(f"pricing file {path}: [{section}] lacks {', '.join(missing)}")
        prices[section] = {k: _exact(v) for k, v in given.items()}
    return prices
