"""Step-by-step driving of the real Definitions (one drain sensor tick, then the runs it requested),
plus the test-side helpers the check, freshness and alert tests share."""

from __future__ import annotations

from contextlib import contextmanager

from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.freshness import FreshnessDaemon

from k2_platform.lakehouse.offsets import committed
from k2_platform.lakehouse.tables import load
from k2_platform.schemas.trade_encoder import TradeEncoder
from k2_platform_tests.assets.medallion_harness import run_sensor_once
from k2_platform_tests.lakehouse.trade_stream import Produced, build_stream, produce, trade

NEVER = 1  # build_stream fires on i % period == 5 (bad) / 7 (duplicate): never for a period of 1


def run_step(defs, instance: DagsterInstance, step: str) -> list:
    """One tick of the step's drain sensor and the runs it requested; failed runs are returned, not raised."""
    results = []
    for request in run_sensor_once(defs, instance, step):
        job = defs.resolve_job_def(defs.get_sensor_def(step).job_name)
        results.append(job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags, raise_on_error=False))
    return results


def run_steps(defs, instance: DagsterInstance, *steps: str) -> list:
    return [r for step in steps for r in run_step(defs, instance, step)]


def produce_trades(settings, n: int, bad_every: int = NEVER, dup_every: int = NEVER, seed: int = 7) -> Produced:
    stream = build_stream(settings, n, dup_every=dup_every, bad_every=bad_every, seed=seed)
    produce(settings, stream)
    return stream


def produce_valid(settings, numbers: range) -> Produced:
    """Valid trades numbered `numbers` (trade ids 10_000_000 + i): disjoint ranges are distinct trades."""
    codec, out = TradeEncoder(), Produced()
    for i in numbers:
        exchange = "binance" if i % 3 else "kraken"
        record = trade(exchange, i)
        out.values.setdefault(settings.topics.trades(exchange), []).append(codec.encode(record))
        out.valid_ids.add(record["message_id"])
    produce(settings, out)
    return out


def evaluations(results: list) -> dict:
    """check name -> its AssetCheckEvaluation, over the given runs (the last evaluation wins)."""
    return {e.check_name: e for r in results for e in r.get_asset_check_evaluations()}


def plain_metadata(evaluation) -> dict:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def append_out_of_band(catalog, namespace: str, table: str, rows) -> None:
    """Append rows the way a hand-run repair would: straight into Iceberg, no K2 snapshot properties."""
    target = load(catalog, namespace, table)
    schema = target.schema().as_arrow()
    target.append(rows.select(schema.names).cast(schema))


def snapshot_count(catalog, namespace: str, table: str) -> int:
    return len(load(catalog, namespace, table).snapshots())


def offsets_of(catalog, namespace: str, table: str) -> dict:
    return committed(load(catalog, namespace, table))


def temp_instance(tmp_path) -> DagsterInstance:
    """A real, persistent (SQLite) instance under a temp DAGSTER_HOME, telemetry off."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return DagsterInstance.local_temp(str(home))


@contextmanager
def freshness_daemon(instance: DagsterInstance):
    """evaluate(at): one iteration of Dagster's own freshness daemon over K2's code location, with
    the clock frozen at `at` (epoch seconds); it records FRESHNESS_STATE_CHANGE events on changes."""
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="k2_platform.definitions", attribute="defs"), location_name="k2")
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
        daemon = FreshnessDaemon()

        def evaluate(at: float) -> None:
            with freeze_time(at):
                for _ in daemon.run_iteration(workspace):
                    pass

        yield evaluate


def freshness(instance: DagsterInstance, keys) -> dict[str, str]:
    return {k.to_user_string(): r.freshness_state.value for k, r in instance.get_freshness_state_records(list(keys)).items()}


def freshness_changes(instance: DagsterInstance) -> list[tuple[str, str, str]]:
    """(asset, previous, new) of every recorded freshness state change, oldest first."""
    records = instance.get_event_records(EventRecordsFilter(DagsterEventType.FRESHNESS_STATE_CHANGE), ascending=True)
    return [
        (c.key.to_user_string(), c.previous_state.value, c.new_state.value)
        for c in (r.event_log_entry.dagster_event.event_specific_data for r in records)
    ]
