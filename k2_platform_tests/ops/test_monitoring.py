"""A real Prometheus (started by K2's own process code) scraping real ingest, real drain runs and a real API:
every metric README.md documents is there with the values the run implies, and every dashboard panel's query
returns data."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from k2_platform.definitions import build_definitions
from k2_platform.ingest.replay.faults import FaultPlan
from k2_platform.lakehouse.metrics_collector import consumed_topics
from k2_platform.lakehouse.tables import load
from k2_platform.ops.processes import free_port, pid_alive, stop_pid
from k2_platform.ops.stack import monitoring_services, start_all
from k2_platform.settings import MonitoringSettings, Settings
from k2_platform_tests.assets.dagster_steps import run_steps, temp_instance
from k2_platform_tests.ingest.conftest import FIRST_ID, RECORDED_TRADES, read_topic, start_replay

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("drain_bronze", "refine_silver", "build_gold", "drain_feed_gaps")
SKIPPED = (FIRST_ID + 100, FIRST_ID + 109)  # a gap the replay's REST history fills
RESENT = 25


def documented_metrics() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(k2_[a-z0-9_]+)` \|", section, flags=re.MULTILINE)


def panel_queries() -> dict[str, str]:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "k2-overview.json").read_text())
    return {f"{p['title']} [{t['refId']}]": t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])}


class PrometheusApi:
    def __init__(self, url: str):
        self.url = url

    def query(self, expr: str) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=10) as resp:
            body = json.load(resp)
        assert body["status"] == "success", (expr, body)
        return body["data"]["result"]

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def by(self, expr: str, label: str) -> dict[str, float]:
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in self.query(expr)}

    def await_value(self, expr: str, expected: float, timeout_s: float = 120.0) -> None:
        """Wait until the scraped value is `expected` (scrapes are periodic); then it is asserted."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.value(expr) != expected:
            time.sleep(0.5)
        assert self.value(expr) == expected, expr

    def await_scrape_after(self, job: str, moment: float, timeout_s: float = 60.0) -> None:
        """Wait until every target of the job was scraped after `moment` (epoch seconds)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.url}/api/v1/targets", timeout=10) as resp:
                targets = [t for t in json.load(resp)["data"]["activeTargets"] if t["labels"]["job"] == job]
            scraped = [t["lastScrape"] for t in targets if t["health"] == "up"]
            if targets and len(scraped) == len(targets) and all(_epoch(s) > moment for s in scraped):
                return
            time.sleep(0.3)
        raise AssertionError(f"{job} not scraped since {moment}: {targets}")


def _epoch(rfc3339: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(rfc3339).timestamp()


def _env(settings) -> dict:
    t, q = settings.topics, settings.query
    return {
        **os.environ,
        "K2_STATE_DIR": str(settings.state_dir),
        "K2_KAFKA__HOST": settings.kafka.host,
        "K2_KAFKA__PORT": str(settings.kafka.port),
        "K2_TOPICS__TRADES_PREFIX": t.trades_prefix,
        "K2_TOPICS__DLQ": t.dlq,
        "K2_TOPICS__FEED_GAPS": t.feed_gaps,
        "K2_INGEST__METRICS_PORT": str(settings.ingest.metrics_port),
        "K2_QUERY__API_PORT": str(q.api_port),
        "K2_QUERY__API_HOST": q.api_host,
    }


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _committed_runs(results, table: str) -> int:
    return sum(
        1
        for r in results
        for m in r.get_asset_materialization_events()
        if m.asset_key.to_user_string() == table and m.materialization.metadata["committed"].value
    )


@pytest.fixture
def monitored(settings, catalog):
    s = settings.model_copy(
        update={
            "ingest": settings.ingest.model_copy(update={"metrics_port": free_port(), "backoff_initial_s": 0.01, "backoff_max_s": 0.1}),
            "query": settings.query.model_copy(update={"api_port": free_port()}),
            "monitoring": MonitoringSettings(prometheus_port=free_port(), exporter_port=free_port(), scrape_interval_s=1.0),
        }
    )
    services = monitoring_services(s)
    start_all(services, progress=lambda _m: None)
    yield s
    for service in reversed(list(services.values())):
        service.stop()


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.dagster
def test_prometheus_scrapes_every_documented_metric_and_every_panel_returns_data(monitored, catalog, binance_recordings, tmp_path):
    s = monitored
    prom = PrometheusApi(f"http://{s.monitoring.host}:{s.monitoring.prometheus_port}")
    faults = FaultPlan(malformed_every=997, skip_ids=SKIPPED, disconnect_after=8000, resend=RESENT)
    defs, instance, results, children = build_definitions(s), temp_instance(tmp_path), [], []
    try:
        with start_replay(binance_recordings, faults=faults, speed=50.0) as server:  # ~13 s of trades
            cli = [sys.executable, "-m", "k2_platform.ops.cli"]
            children.append(
                subprocess.Popen(
                    [*cli, "ingest", "--exchange", "binance", "--symbols", "BTCUSDT", "--replay", server.url],
                    env=_env(s),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            children.append(subprocess.Popen([*cli, "api"], env=_env(s), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            # Drains while the feed streams, then after it: commits spread over scrapes, as in production.
            prom.await_value("sum(k2_ingest_trades_total) > bool 3000", 1.0)
            results += run_steps(defs, instance, *STEPS)
            prom.await_value("sum(k2_ingest_trades_total)", RECORDED_TRADES)
            malformed_sent = server.state.malformed_sent
            # The replay server stays up to the end: the feed must not see a closed exchange.
            prom.await_scrape_after("k2-metrics", time.time())
            results += run_steps(defs, instance, *STEPS)
            assert all(r.success for r in results)
            api = f"http://{s.query.api_host}:{s.query.api_port}"
            requests = {"/v1/symbols": 3, "/v1/trades?symbol=BTCUSDT&limit=5": 2, "/v1/trades?symbol=NOPE": 1}
            for path, times in requests.items():
                for _ in range(times):
                    _get(api + path)
            moment = time.time()
            for job in ("k2-ingest", "k2-api", "k2-metrics"):
                prom.await_scrape_after(job, moment)

            documented = documented_metrics()
            assert len(documented) >= 20
            for name in documented:
                assert prom.query(f'count({{__name__=~"{name}|{name}_count"}})'), f"{name} is documented but not scraped"

            # Ingest: exact counts of what the replay sent, repaired and resent.
            dlq_messages = len(read_topic(s, s.topics.dlq))
            gap_rows = load(catalog, s.catalog.namespace, "feed_gaps").scan().to_arrow()
            repaired = sum(gap_rows["repaired_count"].to_pylist())  # the skipped range, and the catch-up after the reconnect
            assert repaired >= SKIPPED[1] - SKIPPED[0] + 1 and all(gap_rows["repaired"].to_pylist())
            assert prom.by("k2_ingest_trades_total", "source") == {"websocket": RECORDED_TRADES - repaired, "rest": repaired}
            assert prom.value("sum(k2_ingest_rejects_total)") == malformed_sent == dlq_messages > 0
            # Dropped: the resent trades, and those the reconnect's REST catch-up fetched before the new connection sent them.
            caught_up = repaired - (SKIPPED[1] - SKIPPED[0] + 1)
            assert prom.value("sum(k2_ingest_duplicates_total)") == RESENT + caught_up
            assert prom.by("k2_ingest_reconnects_total", "reason") == {"server_closed": 1}  # the replay's one disconnect
            assert prom.value("sum(k2_ingest_gaps_found_total)") == prom.value("sum(k2_ingest_gaps_repaired_total)") == gap_rows.num_rows
            assert prom.value("sum(k2_ingest_delivery_errors_total)") == 0
            assert prom.value("k2_ingest_messages_total") >= RECORDED_TRADES - repaired + RESENT + caught_up + malformed_sent
            assert prom.value("k2_ingest_producer_queue_depth") == 0
            assert all(0 < v < 60 for v in prom.by("k2_ingest_produce_latency_seconds", "stage").values())

            # Lakehouse: every trade drained, nothing left, counts reconcile table by table.
            gaps = prom.value("sum(k2_ingest_gaps_found_total)")
            rows = prom.by("k2_table_rows", "table")
            assert {t: rows[t] for t in ("bronze_trades", "silver_trades_binance", "trades_dlq", "gold_trades", "feed_gaps")} == {
                "bronze_trades": RECORDED_TRADES + dlq_messages,
                "silver_trades_binance": RECORDED_TRADES,
                "trades_dlq": dlq_messages,
                "gold_trades": RECORDED_TRADES,
                "feed_gaps": gaps,
            }
            drained = prom.by("k2_drain_rows_total", "table")
            assert drained == {t: rows.get(t, 0) for t in drained}  # every row in these tables came from a drain run
            lag = prom.query("k2_consumer_lag_records")
            assert {r["metric"]["table"] for r in lag} >= {"bronze_trades", "silver_trades_binance", "trades_dlq", "gold_trades", "feed_gaps"}
            assert len(lag) >= 5 * s.kafka.partitions and all(float(r["value"][1]) == 0 for r in lag)
            freshness = prom.by("k2_table_freshness_age_seconds", "table")
            assert all(0 <= freshness[t] < 600 for t in ("bronze_trades", "gold_trades", "trades_dlq"))
            gold_commits = _committed_runs(results, "gold_trades")
            assert gold_commits == 2
            assert prom.value('k2_drain_commits_total{table="gold_trades",outcome="committed"}') == gold_commits
            assert prom.value('k2_drain_commit_seconds_count{table="gold_trades"}') == gold_commits
            assert 0 < prom.value('k2_drain_commit_seconds_sum{table="gold_trades"}') < 60 * gold_commits
            assert prom.value("k2_degradation_level") == 0
            assert prom.value("k2_lakehouse_scrape_success") == 1

            # API: the requests made above, by route template and status (Prometheus's own /metrics scrapes aside).
            api_requests = {
                (r["metric"]["route"], r["metric"]["status"]): float(r["value"][1]) for r in prom.query('k2_api_requests_total{route!="/metrics"}')
            }
            assert api_requests == {("/v1/symbols", "200"): 3, ("/v1/trades", "200"): 2, ("/v1/trades", "404"): 1}
            assert prom.value('sum(k2_api_request_seconds_count{route!="/metrics"})') == 6

            for panel, expr in panel_queries().items():
                result = prom.query(expr)
                assert result, f"panel {panel}: {expr} returned no data"
                assert any(math.isfinite(float(r["value"][1])) for r in result), (panel, expr, result)
    finally:
        for child in children:
            stop_pid(child.pid)


@pytest.mark.integration
@pytest.mark.slow
def test_up_with_monitoring_scrapes_the_stack_on_loopback_and_down_stops_it(tmp_path):
    env = {
        **os.environ,
        "K2_STATE_DIR": str(tmp_path / "state"),
        "K2_KAFKA__PORT": str(free_port()),
        "K2_KAFKA__CONTROLLER_PORT": str(free_port()),
        "K2_MONITORING__PROMETHEUS_PORT": str(free_port()),
        "K2_MONITORING__EXPORTER_PORT": str(free_port()),
        "K2_MONITORING__SCRAPE_INTERVAL_S": "1",
        "K2_INGEST__METRICS_PORT": str(free_port()),
        "K2_QUERY__API_PORT": str(free_port()),
    }
    env.pop("K2_CONFIG", None)

    def k2(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "k2_platform.ops.cli", *args], check=False, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        up = k2("up", "--with-monitoring")
        assert "K2 metrics exporter started" in up and "Prometheus started" in up
        again = k2("up", "--with-monitoring")
        assert "Prometheus already running" in again and "K2 metrics exporter already running" in again
        status = json.loads(k2("status", "--json").splitlines()[-1])
        services = {name: status["services"][name] for name in ("metrics", "prometheus")}
        assert all(svc["running"] and svc["answers"] for svc in services.values()), services

        prom = PrometheusApi(f"http://127.0.0.1:{env['K2_MONITORING__PROMETHEUS_PORT']}")
        prom.await_scrape_after("k2-metrics", time.time())
        with urllib.request.urlopen(f"{prom.url}/api/v1/targets", timeout=10) as resp:
            targets = {t["labels"]["job"]: t["scrapeUrl"] for t in json.load(resp)["data"]["activeTargets"]}
        assert targets == {
            "k2-ingest": f"http://127.0.0.1:{env['K2_INGEST__METRICS_PORT']}/metrics",
            "k2-api": f"http://127.0.0.1:{env['K2_QUERY__API_PORT']}/metrics",
            "k2-metrics": f"http://127.0.0.1:{env['K2_MONITORING__EXPORTER_PORT']}/metrics",
        }
        assert prom.value("k2_lakehouse_scrape_success") == 1
        lag = prom.query("k2_consumer_lag_records")  # fresh topics and tables: every partition present, nothing behind
        consumed = consumed_topics(Settings())
        assert len(lag) == sum(len(topics) for topics in consumed.values()) * 3 and all(float(r["value"][1]) == 0 for r in lag)
        assert prom.value("k2_degradation_level") == 0

        down = k2("down")
        assert f"Prometheus stopped (pid {services['prometheus']['pid']})" in down
        assert f"K2 metrics exporter stopped (pid {services['metrics']['pid']})" in down
        assert not pid_alive(services["prometheus"]["pid"]) and not pid_alive(services["metrics"]["pid"])
    finally:
        k2("down")


def test_dashboard_uses_the_provisioned_datasource_and_rendered_jobs_match_settings(tmp_path):
    import yaml

    from k2_platform.ops.prometheus import render_config

    datasources = yaml.safe_load((ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "k2-overview.json").read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    uids = {p["datasource"]["uid"] for p in panels} | {t["datasource"]["uid"] for p in panels for t in p["targets"]}
    assert uids == {d["uid"] for d in datasources}
    s = Settings(state_dir=tmp_path, monitoring=MonitoringSettings(scrape_interval_s=1.5, exporter_port=9999))
    config = render_config(s)
    assert config["global"]["scrape_interval"] == "1500ms"
    assert {j["job_name"]: j["static_configs"] for j in config["scrape_configs"]} == {
        "k2-ingest": [{"targets": ["127.0.0.1:9464"]}],
        "k2-api": [{"targets": ["127.0.0.1:8686"]}],
        "k2-metrics": [{"targets": ["127.0.0.1:9999"]}],
    }
