"""FAULT-INJECTION HOOK for crash drills (tests, `k2 chaos`): nothing else uses it.

When `Settings.lakehouse.fault_kill_point` (env K2_LAKEHOUSE__FAULT_KILL_POINT) names a point a
commit reaches, the process SIGKILLs itself there, exactly like an OOM kill or `kill -9` would.
"""

from __future__ import annotations

import os
import signal

KILL_POINTS = ("before_write", "after_write", "after_commit")


def kill_if_armed(armed: str | None, point: str) -> None:
    if armed == point:
        os.kill(os.getpid(), signal.SIGKILL)
