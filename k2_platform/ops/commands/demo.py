"""`k2 demo`: the main job on embedded defaults. Brings the stack up, replays the shared recordings
through the local exchange, ingests them into Kafka, and runs the Dagster UI whose drain sensors
materialize bronze -> silver -> gold. Ctrl-C stops everything this command started."""

from __future__ import annotations

import signal
import subprocess
import sys

from ..errors import StackError
from ..processes import stop_pid
from ..stack import up
from .dagster import PROJECT_ROOT, add_ui_arguments, dagster_command


def register(sub) -> None:
    p = sub.add_parser("demo", help="stack up + replay feed + ingestion + Dagster UI with assets materializing")
    add_ui_arguments(p)
    p.set_defaults(func=run)


def recordings(settings) -> list[str]:
    found = settings.demo.recordings or sorted(str(p) for p in (PROJECT_ROOT.parent / "shared" / "data" / "binance").glob("*.txt.gz"))
    if not found:
        raise StackError("no recordings to replay: set K2_DEMO__RECORDINGS='[\"path.txt.gz\"]' or put ../shared/data beside the project")
    return found


def background_commands(settings) -> dict[str, list[str]]:
    k2 = [sys.executable, "-m", "k2_platform.ops.cli"]
    d = settings.demo
    # Rebased to now: the demo's trades, partitions, bars and freshness are today's, as with a live feed.
    replay = k2 + ["replay-server", "--speed", d.speed, "--loops", str(d.loops), "--kraken-pair", d.kraken_pair, "--rebase-time", "now"]
    for path in recordings(settings):
        replay += ["--recording", path]
    return {"replay-server": replay, "ingest": k2 + ["ingest", "--exchange", d.exchanges, "--symbols", d.symbols]}


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def run(args, settings) -> int:
    # SIGTERM (a service manager, `timeout`) stops the children just like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    up(settings)
    logs = settings.state_dir / "demo"
    logs.mkdir(parents=True, exist_ok=True)
    argv, env = dagster_command(args, settings)
    children: dict[str, subprocess.Popen] = {}
    try:
        for name, command in background_commands(settings).items():
            with open(logs / f"{name}.log", "ab") as log:
                children[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            print(f"{name} started (pid {children[name].pid}, log {logs / (name + '.log')})", flush=True)
        children["dagster"] = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT)
        print(
            f"dagster started (pid {children['dagster'].pid}): UI on http://{args.host}:{args.port}, drain sensors run bronze -> silver -> gold",
            flush=True,
        )
        return children["dagster"].wait()
    except KeyboardInterrupt:
        return 0
    finally:
        # Ingest first: it flushes what it holds while the exchange is still there to be read.
        for name in ("ingest", "replay-server", "dagster"):
            if name in children:
                stop_pid(children[name].pid, timeout_s=30)
