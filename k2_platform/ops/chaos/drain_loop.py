"""Drains kept running in the background of a drill, as a scheduler would: one run after another,
a failed run retried after a short pause, its one-line reason recorded."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ...settings import Settings
from .lake_drill import ALL_STEPS, finish_drain, start_drain


class DrainLoop:
    def __init__(self, settings: Settings, log_dir: Path, retry_s: float = 0.5):
        self.settings, self.log_dir, self.retry_s = settings, log_dir, retry_s
        self.failures: list[str] = []
        self.successes = 0
        self.started = 0  # runs begun
        self._running = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="chaos-drains", daemon=True)

    def __enter__(self) -> DrainLoop:
        self._running.set()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join()

    def pause(self) -> None:
        """No new run starts; returns once the current run has ended."""
        self._idle.clear()
        self._running.clear()
        self._idle.wait()

    def resume(self) -> None:
        self._running.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._running.is_set():
                self._idle.set()
                self._running.wait()
                continue
            self.started += 1
            run = finish_drain(start_drain(self.settings, ALL_STEPS, self.log_dir, until_empty=True))
            if run.returncode == 0:
                self.successes += 1
            else:
                self.failures.append(run.error)
            time.sleep(self.retry_s)
