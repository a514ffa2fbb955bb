import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.dagster
def test_dagster_definitions_validate(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": str(dagster.parent) + ":/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "K2_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation." in result.stdout + result.stderr
