import subprocess
import sys

from k2_platform.ops.memory import peak_rss_mb


def test_a_child_of_a_large_process_reports_its_own_peak_not_the_parents():
    ballast = bytearray(600 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page so it is resident
    assert peak_rss_mb() >= 600
    child = subprocess.run(
        [sys.executable, "-c", "from k2_platform.ops.memory import peak_rss_mb; print(peak_rss_mb())"], capture_output=True, text=True, check=True
    )
    assert 0 < float(child.stdout) < 200
    del ballast
