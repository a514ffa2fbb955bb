"""A process's own peak resident memory."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM of the process, in MB. Not getrusage's ru_maxrss: Linux keeps that across exec, so a child
    started from a large parent (pytest late in a full run) would report the parent's peak as its own."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")
