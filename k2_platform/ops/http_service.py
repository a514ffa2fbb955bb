"""A local service K2 starts itself that answers HTTP when ready (Prometheus, `k2 metrics`): pid file, free-port
check, start-up wait with the log's tail on failure, SIGTERM stop. The Kafka and SeaweedFS classes follow the
same steps with readiness probes of their own."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from .errors import StackError
from .processes import log_tail, owned_pid, require_free_ports, spawn, stop_pid


class HttpService:
    external = False
    title = ""  # for the user: "Prometheus"

    def __init__(self, directory: Path, host: str, port: int, port_setting: str, start_timeout_s: float):
        self.dir, self.host, self.port, self.port_setting, self.start_timeout_s = directory, host, port, port_setting, start_timeout_s
        self.pid_file = directory / "pid"
        self.log_file = directory / "stdout.log"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def marker(self) -> str:
        """A piece of the command line that only our process has (owned_pid never signals anyone else's)."""
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def prepare(self) -> None:
        """Write what the process reads at start-up (config files)."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def pid(self) -> int | None:
        return owned_pid(self.pid_file, self.marker())

    def answers(self, timeout_s: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url(), timeout=timeout_s) as resp:
                return resp.status == 200
        except OSError:
            return False

    def start(self, progress=print) -> str:
        if (pid := self.pid()) is not None:
            return f"{self.title} already running (pid {pid}) at {self.url}"
        require_free_ports(self.title, self.host, {self.port_setting: self.port})
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        progress(f"Starting {self.title} at {self.url} ...")
        proc = spawn(self.argv(), self.log_file, self.pid_file)
        try:
            deadline = time.monotonic() + self.start_timeout_s
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise StackError(f"{self.title} exited during start-up (code {proc.returncode}): {log_tail(self.log_file)}")
                if self.answers(timeout_s=1.0):
                    return f"{self.title} started (pid {proc.pid}) at {self.url}"
                time.sleep(0.2)
            raise StackError(f"{self.title} did not answer at {self.url} within {self.start_timeout_s:.0f}s: {log_tail(self.log_file)}")
        except BaseException:
            self._stop(proc.pid)
            raise

    def stop(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"{self.title} not running"
        self._stop(pid)
        return f"{self.title} stopped (pid {pid})"

    def _stop(self, pid: int) -> None:
        stop_pid(pid)
        self.pid_file.unlink(missing_ok=True)
