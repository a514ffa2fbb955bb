"""ohlcv_1m / ohlcv_1h / ohlcv_1d: time-partitioned bar assets over gold_trades (minute bars in hourly
partitions, hour and day bars in daily ones). A run over a partition range is one DuckDB pass over
gold and one atomic overwrite of exactly that range; the checks reconcile the range just written."""

import warnings
from datetime import datetime

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MaterializeResult,
    TimeWindowPartitionsDefinition,
    asset,
)
from dagster_duckdb import DuckDBResource

from ..checks.report import ERROR, check_result
from ..query.bar_build import bar_table_name, build_bars, partition_us
from ..query.bar_checks import bars_reconcile_with_gold, bars_within_high_low
from ..query.bars import INTERVALS
from ..query.engine import QueryEngine
from ..resources import K2SettingsResource
from ..settings import Settings
from .kafka_sources import OWNERS

HIGH_LOW = "high_low_bound_open_close"
RECONCILES = "reconciles_with_gold"


def bar_partitions(settings: Settings, interval: str) -> TimeWindowPartitionsDefinition:
    # end_offset=1: the window in progress is a partition too, so its bars exist while it runs (rewritten
    # as gold grows, like an exchange's current kline), not only once it has closed.
    hourly = partition_us(interval) == 3_600_000_000
    cls = HourlyPartitionsDefinition if hourly else DailyPartitionsDefinition
    return cls(start_date=datetime.fromisoformat(settings.bars.start), end_offset=1, timezone="UTC")


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def _bar_asset(settings: Settings, interval: str) -> AssetsDefinition:
    with warnings.catch_warnings():
        # BackfillPolicy on @asset is marked beta in dagster 1.13; it is what makes a backfill a few runs.
        warnings.simplefilter("ignore", BetaWarning)
        return _define_bar_asset(settings, interval)


def _define_bar_asset(settings: Settings, interval: str) -> AssetsDefinition:
    name = bar_table_name(interval)

    @asset(
        name=name,
        deps=["gold_trades"],
        partitions_def=bar_partitions(settings, interval),
        backfill_policy=BackfillPolicy.multi_run(settings.bars.max_partitions_per_run),
        group_name="ohlcv",
        kinds={"iceberg", "duckdb"},
        owners=OWNERS,
        tags={"layer": "derived"},
        description=f"{interval} bars per (exchange, symbol) from gold_trades, Binance kline columns plus VWAP "
        "(quote_volume / volume, exact, half-even at 18 decimals); no bar for a window without trades. "
        "A run rebuilds its partitions from gold's current snapshot and replaces exactly them.",
        check_specs=[
            AssetCheckSpec(HIGH_LOW, asset=name, description="low <= open, close <= high on every bar written."),
            AssetCheckSpec(
                RECONCILES,
                asset=name,
                description="Bars written vs gold (same snapshot, same range): volume, quote "
                "volume, trade count equal; one bar per (exchange, symbol, window) with trades.",
            ),
        ],
    )
    def _bars(context: AssetExecutionContext, k2: K2SettingsResource, duckdb: DuckDBResource):
        window = context.partition_time_window
        with duckdb.get_connection() as connection:
            engine = QueryEngine.from_settings(k2.settings, k2.catalog(), connection=connection)
            outcome = build_bars(engine, interval, _us(window.start), _us(window.end))
            verdicts = {HIGH_LOW: bars_within_high_low(engine, outcome), RECONCILES: bars_reconcile_with_gold(engine, outcome)}
            engine.close()
        context.log.info(f"{name}: {outcome.bars} bars for [{window.start}, {window.end}) from gold snapshot {outcome.gold_snapshot_id}")
        return MaterializeResult(
            metadata={
                "bars": outcome.bars,
                "range_start": window.start.isoformat(),
                "range_end": window.end.isoformat(),
                "gold_snapshot_id": str(outcome.gold_snapshot_id),
                "snapshot_id": str(outcome.snapshot_id),
                "commit_attempts": outcome.attempts,
                "duration_s": outcome.duration_s,
            },
            check_results=[check_result(context, name, check, v, ERROR) for check, v in verdicts.items()],
        )

    return _bars


def ohlcv_assets(settings: Settings) -> list[AssetsDefinition]:
    return [_bar_asset(settings, interval) for interval in INTERVALS]
