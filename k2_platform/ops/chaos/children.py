"""The stack pieces a drill runs as child processes of its own: `k2 replay-server` and `k2 ingest`.

Each child gets the drill's settings through K2_ environment variables (the same precedence a user's
shell has), and writes its output to a log file in the drill's work directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ...settings import Settings
from ..errors import StackError
from ..processes import free_port, log_tail

_READY_LINE = "replay exchange on "


def k2_env(settings: Settings) -> dict[str, str]:
    """Environment that gives a `k2` child these settings' broker, topics and state (and no metrics port to collide on)."""
    k, t = settings.kafka, settings.topics
    env = {
        **os.environ,
        "K2_STATE_DIR": str(settings.state_dir),
        "K2_TOPICS__TRADES_PREFIX": t.trades_prefix,
        "K2_TOPICS__DLQ": t.dlq,
        "K2_TOPICS__FEED_GAPS": t.feed_gaps,
        "K2_INGEST__METRICS_PORT": "0",
    }
    if k.external_bootstrap:
        env["K2_KAFKA__EXTERNAL_BOOTSTRAP"] = k.external_bootstrap
    else:
        env.update(K2_KAFKA__HOST=k.host, K2_KAFKA__PORT=str(k.port))
    return env


def start_k2(args: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "k2_platform.ops.cli", *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )


class ReplayExchange:
    """`k2 replay-server` on a free loopback port, until the context ends (SIGTERM)."""

    def __init__(self, recordings: list[Path], speed: float, env: dict[str, str], log_file: Path, start_timeout_s: float = 60.0):
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.args = [
            "replay-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--speed",
            str(speed),
            *(a for path in recordings for a in ("--recording", str(path))),
        ]
        self.env, self.log_file, self.start_timeout_s = env, log_file, start_timeout_s
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ReplayExchange:
        self.proc = start_k2(self.args, self.env, self.log_file)
        deadline = time.monotonic() + self.start_timeout_s
        while _READY_LINE not in self.log_file.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise StackError(f"k2 replay-server did not start: {log_tail(self.log_file)}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
