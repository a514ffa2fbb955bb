"""`k2 dagster` (the real `dagster dev` on workspace.yaml) as a test runs it: on a free port, with this test's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import yaml

from k2_platform.ops.processes import free_port, start_group, stop_group
from k2_platform_tests.assets.test_materialize_by_hand import k2_environment

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 180  # `dagster dev` starts a webserver, a daemon and a code server: slow on a busy 2-core machine


def code_location() -> str:
    """The code location's name as the UI shows it: workspace.yaml's module."""
    return yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]["module_name"]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"k2 dagster exited with {process.returncode}:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"the Dagster UI did not answer at {url} within {STARTUP_S} s:\n{log.read_text()[-3000:]}")


@contextmanager
def dagster_ui(settings):
    """Base URL of the UI `k2 dagster` serves for these settings (DAGSTER_HOME = settings.dagster_home)."""
    port, log = free_port(), settings.state_dir / "k2-dagster.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**k2_environment(settings, settings.dagster_home), "HOME": os.environ.get("HOME", str(settings.state_dir))}
    with open(log, "wb") as out:
        process = start_group(
            [sys.executable, "-m", "k2_platform.ops.cli", "dagster", "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_serving(url, process, log)
        yield url
    finally:
        stop_group(process)
