"""Memory of a process tree, one of the readings degradation levels are driven by (cheap enough for every tick)."""

from __future__ import annotations

import os
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss_bytes(pid: int | None = None) -> int:
    """RSS of a process and all its descendants (Linux /proc). For the Dagster code location that is the
    sensor's process plus the run workers it launched; a process exiting meanwhile counts as 0."""
    total, todo = 0, [pid or os.getpid()]
    while todo:
        proc = Path("/proc") / str(todo.pop())
        try:
            total += int((proc / "statm").read_text().split()[1]) * PAGE
            todo += [int(c) for task in (proc / "task").iterdir() for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total
