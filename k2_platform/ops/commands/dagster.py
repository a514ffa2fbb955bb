"""`k2 dagster`: the Dagster UI and daemon (`dagster dev`) with DAGSTER_HOME in the state directory."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def register(sub) -> None:
    p = sub.add_parser("dagster", help="run the Dagster UI + daemon on the K2 definitions (dagster dev)")
    p.add_argument("--port", type=int, default=3000, help="UI port (default 3000)")
    p.add_argument("--host", default="127.0.0.1", help="UI host (default 127.0.0.1)")
    p.set_defaults(func=run)


def prepare_dagster_home(settings) -> Path:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def run(args, settings) -> int:
    env = {**os.environ, "DAGSTER_HOME": str(prepare_dagster_home(settings))}
    dagster = shutil.which("dagster") or str(Path(os.sys.executable).with_name("dagster"))
    argv = [dagster, "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", args.host, "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(dagster, argv, env)
