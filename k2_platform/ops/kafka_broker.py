"""A real single-node Apache Kafka (KRaft, combined broker + controller) run with the machine's Java."""

from __future__ import annotations

import base64
import shutil
import subprocess
import time
import uuid
from importlib import resources
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from ..settings import Settings
from .errors import StackError
from .kafka_jars import ensure_kafka_jars
from .processes import log_tail, owned_pid, require_free_ports, spawn, stop_pid

MAIN_CLASS = "kafka.Kafka"


class KafkaBroker:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = settings.kafka_dir
        self.data_dir = self.dir / "data"
        self.pid_file = self.dir / "kafka.pid"
        self.log_file = self.dir / "stdout.log"
        self.config_file = self.dir / "server.properties"

    @property
    def external(self) -> bool:
        return self.settings.kafka.external_bootstrap is not None

    def pid(self) -> int | None:
        return owned_pid(self.pid_file, str(self.config_file))

    def answers(self, timeout_s: float = 2.0) -> bool:
        try:
            admin_client(self.settings).list_topics(timeout=timeout_s)
            return True
        except KafkaException:
            return False

    def start(self, progress=print) -> str:
        """Start the broker unless it already runs; returns what happened, for the user."""
        if self.external:
            return f"using external Kafka at {self.settings.kafka.bootstrap}"
        if (pid := self.pid()) is not None:
            return f"Kafka already running (pid {pid}) at {self.settings.kafka.bootstrap}"
        java = shutil.which("java")
        if java is None:
            raise StackError("Java not found on PATH: Kafka needs Java 17 or newer (apt-get install openjdk-17-jre-headless)")
        k = self.settings.kafka
        require_free_ports("Kafka", k.host, {"K2_KAFKA__PORT": k.port, "K2_KAFKA__CONTROLLER_PORT": k.controller_port})
        jars = ensure_kafka_jars(self.settings, progress)
        self._write_config()
        self._format_if_new(java, jars)
        progress(f"Starting Kafka {k.version} on {k.bootstrap} ...")
        log4j = resources.files(__package__).joinpath("kafka-log4j2.properties")
        argv = [
            java,
            f"-Xmx{k.heap_mb}m",
            f"-Xms{min(k.heap_mb, 256)}m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dk2.kafka.logdir={self.dir / 'logs'}",
            "-cp",
            f"{jars}/*",
            MAIN_CLASS,
            str(self.config_file),
        ]
        proc = spawn(argv, self.log_file, self.pid_file)
        deadline = time.monotonic() + k.start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise StackError(f"Kafka exited during start-up (code {proc.returncode}): {self._why()}")
            if self.answers(timeout_s=1.0):
                return f"Kafka started (pid {proc.pid}) at {k.bootstrap}"
            time.sleep(0.5)
        stop_pid(proc.pid, timeout_s=5)
        self.pid_file.unlink(missing_ok=True)
        raise StackError(f"Kafka did not answer on {k.bootstrap} within {k.start_timeout_s:.0f}s: {self._why()}")

    def stop(self) -> str:
        if self.external:
            return "external Kafka left running"
        pid = self.pid()
        if pid is None:
            return "Kafka not running"
        # Controlled shutdown flushes every log segment: nothing acknowledged is lost.
        stop_pid(pid, timeout_s=60)
        self.pid_file.unlink(missing_ok=True)
        return f"Kafka stopped (pid {pid})"

    def _why(self) -> str:
        server_log = self.dir / "logs" / "server.log"
        errors = [l for l in server_log.read_text(errors="replace").splitlines() if " ERROR " in l] if server_log.exists() else []
        return (errors[-1][:400] if errors else log_tail(self.log_file, 3)[:400]) + f" (logs in {self.dir})"

    def _write_config(self) -> None:
        k = self.settings.kafka
        self.dir.mkdir(parents=True, exist_ok=True)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{k.host}:{k.controller_port}",
            "listeners": f"PLAINTEXT://{k.host}:{k.port},CONTROLLER://{k.host}:{k.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{k.host}:{k.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": str(k.partitions),
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            # Market data is kept a week by default; tables are the long-term store.
            "log.retention.hours": "168",
        }
        self.config_file.write_text("".join(f"{key}={value}\n" for key, value in props.items()))

    def _format_if_new(self, java: str, jars: Path) -> None:
        meta = self.data_dir / "meta.properties"
        if meta.exists():
            text = meta.read_text(errors="replace")
            if "cluster.id=" not in text or "node.id=1" not in text:
                raise StackError(
                    f"Kafka state directory {self.data_dir} is corrupt (meta.properties has no cluster.id/node.id); "
                    "move it away or run `k2 down --wipe` to start empty"
                )
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise StackError(
                f"Kafka state directory {self.data_dir} holds data but no meta.properties (corrupt); "
                "move it away or run `k2 down --wipe` to start empty"
            )
        cluster_id = _kafka_uuid()
        result = subprocess.run(
            [java, "-cp", f"{jars}/*", "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(self.config_file)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage in {self.data_dir} failed: {(result.stderr or result.stdout).strip()[-300:]}")


def admin_client(settings: Settings) -> AdminClient:
    # log_level 0: a broker that is still starting is expected; callers report failures themselves.
    return AdminClient({"bootstrap.servers": settings.kafka.bootstrap, "log_level": 0})


def _kafka_uuid() -> str:
    # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def ensure_topics(settings: Settings, topics: list[str] | None = None, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; returns the ones created. Existing topics are left as they are."""
    admin = admin_client(settings)
    wanted = topics if topics is not None else settings.topics.all()
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [t for t in wanted if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=settings.kafka.partitions, replication_factor=1) for t in missing],
        operation_timeout=timeout_s,
    )
    created = []
    for topic, future in futures.items():
        try:
            future.result()
            created.append(topic)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise StackError(f"could not create topic {topic}: {exc}") from exc
    return created
