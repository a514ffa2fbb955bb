"""Fixtures of the bar-asset tests (they need a catalog, no broker)."""

from __future__ import annotations

import pytest

from k2_platform.lakehouse.catalog import open_catalog
from k2_platform.lakehouse.tables import ensure_all_tables
from k2_platform.settings import Settings


@pytest.fixture
def bar_settings(tmp_path) -> Settings:
    """An empty SQL catalog and nothing else: bars need no broker."""
    return Settings(state_dir=tmp_path / "state")


@pytest.fixture
def bar_catalog(bar_settings):
    catalog = open_catalog(bar_settings)
    ensure_all_tables(catalog, bar_settings.catalog.namespace)
    return catalog
