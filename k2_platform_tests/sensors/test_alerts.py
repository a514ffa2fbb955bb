"""The k2_alerts sensor under real evaluation: a failed check and a freshness change each notify once
(log + webhook POST to a local HTTP server), stay quiet while nothing changes, and notify the recovery."""

import time

import pytest
from dagster._core.test_utils import freeze_time

from k2_platform.definitions import build_definitions
from k2_platform.ops.processes import free_port
from k2_platform_tests.assets.dagster_steps import freshness_daemon, produce_trades, produce_valid, run_steps, temp_instance
from k2_platform_tests.sensors.alert_harness import TICKS, alert_log_lines, tick, with_webhook

pytestmark = [pytest.mark.integration, pytest.mark.dagster]

DLQ_RATE = "check:trades_dlq:trades_dlq_rate"


def test_failed_check_and_freshness_change_notify_once_per_state_change(settings, catalog, tmp_path, webhook):
    url, posts = webhook
    defs = build_definitions(with_webhook(settings, url))
    unreachable = build_definitions(with_webhook(settings, f"http://127.0.0.1:{free_port()}/alerts"))
    bronze_s = defs.resolve_asset_graph().get(defs.get_assets_def("bronze_trades").key).freshness_policy.fail_window.to_timedelta().total_seconds()
    instance = temp_instance(tmp_path)
    TICKS.clear()

    assert tick(defs, instance, None).skip_message == "no state change" and posts == []

    produce_trades(settings, 20, bad_every=10)  # 2 of 20 rejected: above the 5% DLQ-rate threshold
    t0 = time.time()
    with freeze_time(t0):
        runs = run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold")
    assert all(r.success for r in runs)
    failing_run = runs[1].run_id

    first = tick(defs, instance, None)
    assert first.skip_message == "1 alert(s) sent"
    assert posts == [
        {
            "source": "k2",
            "events": [
                {
                    "subject": DLQ_RATE,
                    "state": "FAILED",
                    "previous": "UNKNOWN",
                    "severity": "alert",
                    "check_severity": "WARN",
                    "run_id": failing_run,
                    "explanation": "10.00% of the batch was rejected (threshold 5.00%); see trades_dlq.reason",
                }
            ],
        }
    ]
    cursor = first.cursor
    again = tick(defs, instance, cursor)
    assert again.skip_message == "no state change" and len(posts) == 1
    cursor = again.cursor

    with freshness_daemon(instance) as evaluate:
        evaluate(t0 + 60)  # everything fresh: first observations that are healthy notify nothing
        result = tick(defs, instance, cursor)
        assert result.skip_message == "no state change" and len(posts) == 1
        cursor = result.cursor

        evaluate(t0 + bronze_s + 1)  # the drain stopped: bronze goes stale
        down = tick(unreachable, instance, cursor)
        assert down.skip_message.startswith("webhook failed") and len(posts) == 1
        assert down.cursor in (None, cursor)  # not advanced: the change is retried on the next tick
        stale = tick(defs, instance, cursor)
        assert stale.skip_message == "1 alert(s) sent"
        assert posts[1] == {
            "source": "k2",
            "events": [{"subject": "freshness:bronze_trades", "state": "FAIL", "previous": "PASS", "severity": "alert"}],
        }
        cursor = stale.cursor
        assert tick(defs, instance, cursor).skip_message == "no state change" and len(posts) == 2

        produce_valid(settings, range(100, 140))  # clean data, and the drain resumes
        with freeze_time(t0 + bronze_s + 30):
            runs = run_steps(defs, instance, "drain_bronze", "refine_silver", "build_gold")
        assert all(r.success for r in runs)
        evaluate(t0 + bronze_s + 31)
        recovered = tick(defs, instance, cursor)
        assert recovered.skip_message == "2 alert(s) sent"
        assert posts[2] == {
            "source": "k2",
            "events": [
                {
                    "subject": DLQ_RATE,
                    "state": "SUCCEEDED",
                    "previous": "FAILED",
                    "severity": "ok",
                    "check_severity": "WARN",
                    "run_id": runs[1].run_id,
                    "explanation": "0.00% of the batch was rejected (threshold 5.00%); see trades_dlq.reason",
                },
                {"subject": "freshness:bronze_trades", "state": "PASS", "previous": "FAIL", "severity": "ok"},
            ],
        }
        assert tick(defs, instance, recovered.cursor).skip_message == "no state change"
    assert len(posts) == 3
    assert alert_log_lines(instance) == [
        f"K2 alert: {DLQ_RATE} UNKNOWN -> FAILED 10.00% of the batch was rejected (threshold 5.00%); see trades_dlq.reason",
        "K2 alert: freshness:bronze_trades PASS -> FAIL",  # logged by the tick whose webhook failed ...
        "K2 alert: freshness:bronze_trades PASS -> FAIL",  # ... and by its retry
        f"K2 alert: {DLQ_RATE} FAILED -> SUCCEEDED 0.00% of the batch was rejected (threshold 5.00%); see trades_dlq.reason",
        "K2 alert: freshness:bronze_trades FAIL -> PASS",
    ]
