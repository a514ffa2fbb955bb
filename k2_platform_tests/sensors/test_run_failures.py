"""Failed runs are visible: a run that crashes before its checks report is notified once by the
k2_run_failures sensor (log + webhook, like the check alerts), and the next run's checks say what happened."""

import pytest
from dagster import RunConfig

from k2_platform.assets.drain_asset import RangeConfig
from k2_platform.definitions import build_definitions
from k2_platform.lakehouse.offsets import flatten
from k2_platform_tests.assets.dagster_steps import evaluations, offsets_of, plain_metadata, produce_valid, run_steps, temp_instance
from k2_platform_tests.sensors.alert_harness import TICKS, alert_log_lines, tick, with_webhook

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

RANGE_CHECK = "bronze_range_complete"


def test_a_crashed_run_alerts_once_and_the_next_run_of_its_checks_says_what_happened(settings, catalog, tmp_path, webhook):
    url, posts = webhook
    defs, instance = build_definitions(with_webhook(settings, url)), temp_instance(tmp_path)
    TICKS.clear()
    cursor = tick(defs, instance, None, "k2_run_failures").cursor  # the first tick starts watching from now
    produce_valid(settings, range(10))
    assert all(r.success for r in run_steps(defs, instance, "drain_bronze"))

    # A run asked for a range beyond what bronze holds: it stops with RangeGap before any check reports.
    (topic, partition), at = next(iter(flatten(offsets_of(catalog, "market", "bronze_trades")).items()))
    beyond = RangeConfig(start=f'{{"{topic}":{{"{partition}":{at + 1}}}}}', end=f'{{"{topic}":{{"{partition}":{at + 2}}}}}')
    job = defs.resolve_job_def(defs.get_sensor_def("drain_bronze").job_name)
    crashed = job.execute_in_process(run_config=RunConfig(ops={"drain_bronze": beyond}), instance=instance, raise_on_error=False)
    assert not crashed.success and evaluations([crashed]) == {}
    error = (
        f"step drain_bronze failed: k2_platform.lakehouse.offsets.RangeGap: {topic}[{partition}] is at offset {at}, before this run's start {at + 1}"
    )

    alerted = tick(defs, instance, cursor, "k2_run_failures")
    assert posts == [
        {
            "source": "k2",
            "events": [
                {
                    "subject": "run:drain_bronze_job",
                    "state": "FAILURE",
                    "previous": "STARTED",
                    "severity": "alert",
                    "run_id": crashed.run_id,
                    "explanation": error,
                }
            ],
        }
    ]
    assert tick(defs, instance, alerted.cursor, "k2_run_failures").cursor == alerted.cursor and len(posts) == 1  # once per failed run
    assert alert_log_lines(instance) == [f"K2 alert: run:drain_bronze_job STARTED -> FAILURE {error}"]

    produce_valid(settings, range(100, 104))
    after = run_steps(defs, instance, "drain_bronze")
    assert [r.success for r in after] == [True]
    assert plain_metadata(evaluations(after)[RANGE_CHECK]) == {
        "rows": 4,
        "expected_rows": 4,
        "distinct_positions": 4,
        "explanation": "one row per offset of the range",
        "previous_run_id": crashed.run_id,
        "previous_run_status": "FAILURE",
        "previous_run_error": error,
    }

    produce_valid(settings, range(200, 203))
    assert plain_metadata(evaluations(run_steps(defs, instance, "drain_bronze"))[RANGE_CHECK]) == {
        "rows": 3,
        "expected_rows": 3,
        "distinct_positions": 3,
        "explanation": "one row per offset of the range",
    }  # reported: nothing to say
