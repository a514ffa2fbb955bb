"""Freshness policies, applied in one place: which table goes stale after how long (Settings.lakehouse, Settings.bars)."""

from __future__ import annotations

import warnings
from datetime import timedelta

from dagster import AssetKey, AssetSpec, Definitions, FreshnessPolicy, PreviewWarning, apply_freshness_policy

from ..lakehouse.bronze import TABLE as BRONZE
from ..lakehouse.gold import TABLE as GOLD
from ..lakehouse.refine import DLQ, silver_table
from ..query.bar_build import bar_table_name
from ..query.bars import INTERVALS
from ..settings import EXCHANGES, Settings


def fail_windows_s(settings: Settings) -> dict[str, int]:
    """Table -> seconds without a materialization before it is stale. feed_gaps has none: no gap is the normal case."""
    lake, bars = settings.lakehouse, settings.bars
    return {
        BRONZE: lake.bronze_fresh_s,
        **{silver_table(e): lake.silver_fresh_s for e in EXCHANGES},
        DLQ: lake.silver_fresh_s,
        GOLD: lake.gold_fresh_s,
        **{bar_table_name(i): getattr(bars, f"fresh_{i}_s") for i in INTERVALS},
    }


def with_freshness(defs: Definitions, settings: Settings) -> Definitions:
    """Time-window policies on the tables of fail_windows_s; a policy an asset already declares is kept."""
    windows = {AssetKey(name): seconds for name, seconds in fail_windows_s(settings).items()}

    def policy(spec: AssetSpec) -> AssetSpec:
        if spec.key not in windows:
            return spec
        return apply_freshness_policy(spec, FreshnessPolicy.time_window(fail_window=timedelta(seconds=windows[spec.key])), overwrite_existing=False)

    with warnings.catch_warnings():  # Definitions.map_asset_specs is marked preview in dagster 1.13; it is the documented way
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_asset_specs(func=policy)
