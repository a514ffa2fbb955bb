"""`k2 dagster`: the Dagster UI and daemon (`dagster dev`) with DAGSTER_HOME in the state directory."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def register(sub) -> None:
    p = sub.add_parser("dagster", help="run the Dagster UI + daemon on the K2 definitions (dagster dev)")
    add_ui_arguments(p)
    p.set_defaults(func=run)


def add_ui_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=3000, help="UI port (default 3000)")
    parser.add_argument("--host", default="127.0.0.1", help="UI host (default 127.0.0.1)")


def dagster_command(args, settings) -> tuple[list[str], dict]:
    """argv and environment of `dagster dev` on this project, DAGSTER_HOME prepared."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    argv = [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    # The code server loads settings the same way this process did.
    env = {**os.environ, "DAGSTER_HOME": str(home), "K2_STATE_DIR": str(settings.state_dir)}
    return argv, env


def run(args, settings) -> int:
    argv, env = dagster_command(args, settings)
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(argv[0], argv, env)
