"""`k2 up/status/down` as a user runs them, and the faults they must explain in one line."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from k2_platform.ops.errors import StackError
from k2_platform.ops.kafka_broker import KafkaBroker
from k2_platform.ops.processes import free_port, pid_alive
from k2_platform.settings import KafkaSettings, Settings

pytestmark = pytest.mark.integration
K2 = [sys.executable, "-m", "k2_platform.ops.cli"]


@pytest.fixture
def stack_env(tmp_path):
    env = {
        **os.environ,
        "K2_STATE_DIR": str(tmp_path / "state"),
        "K2_KAFKA__PORT": str(free_port()),
        "K2_KAFKA__CONTROLLER_PORT": str(free_port()),
    }
    env.pop("K2_CONFIG", None)
    yield env
    subprocess.run(K2 + ["down"], env=env, capture_output=True, timeout=120)


def k2(env, *args, check=True):
    result = subprocess.run(K2 + list(args), env=env, capture_output=True, text=True, timeout=240)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_up_status_down_up_keeps_every_record(stack_env):
    first = k2(stack_env, "up").stdout
    assert "Kafka started" in first and "10 tables ready" in first
    again = k2(stack_env, "up").stdout
    assert "Kafka already running" in again and "Topics already exist." in again

    status = json.loads(k2(stack_env, "status", "--json").stdout.strip().splitlines()[-1])
    bootstrap = f"127.0.0.1:{stack_env['K2_KAFKA__PORT']}"
    assert status["kafka_bootstrap"] == bootstrap
    assert status["catalog_uri"] == f"sqlite:///{stack_env['K2_STATE_DIR']}/catalog.db"
    assert status["services"]["kafka"]["running"] is True and status["services"]["kafka"]["answers"] is True
    pid = status["services"]["kafka"]["pid"]

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all"})
    for i in range(1000):
        producer.produce("market.crypto.trades.binance", key=b"BTCUSDT", value=str(i).encode())
    assert producer.flush(30) == 0

    assert f"Kafka stopped (pid {pid})" in k2(stack_env, "down").stdout
    assert not pid_alive(pid)
    stopped = json.loads(k2(stack_env, "status", "--json").stdout.strip().splitlines()[-1])
    assert stopped["services"]["kafka"] == {"pid": None, "running": False, "answers": False}

    k2(stack_env, "up")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "survive", "enable.auto.commit": False})
    consumer.assign([TopicPartition("market.crypto.trades.binance", p, 0) for p in range(3)])
    values = []
    for _ in range(40):
        values += [m.value() for m in consumer.consume(1000, timeout=0.5) if m.error() is None]
        if len(values) >= 1000:
            break
    values += [m.value() for m in consumer.consume(1000, timeout=1.0) if m.error() is None]
    consumer.close()
    assert sorted(int(v) for v in values) == list(range(1000))


def test_port_in_use_is_one_line_error_and_nothing_starts(stack_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(stack_env["K2_KAFKA__PORT"])))
        busy.listen()
        result = k2(stack_env, "up", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"k2: Kafka: port {stack_env['K2_KAFKA__PORT']} on 127.0.0.1 is already in use by another process; "
        "stop that process or choose another port with K2_KAFKA__PORT"
    )
    assert not (Path(stack_env["K2_STATE_DIR"]) / "kafka" / "kafka.pid").exists()


def test_java_missing_is_one_line_error(stack_env, tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**stack_env, "PATH": str(empty_bin)}
    result = k2(env, "up", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("k2: Java not found on PATH: Kafka needs Java 17 or newer")


def test_jar_download_failure_is_one_line_error_and_leaves_no_partial_jars(tmp_path):
    settings = Settings(state_dir=tmp_path / "s", kafka=KafkaSettings(version="0.0.404", port=free_port(), controller_port=free_port()))
    os.environ["K2_JARS_DIR"] = str(tmp_path / "jars")
    try:
        with pytest.raises(StackError, match=r"could not fetch the Kafka 0.0.404 jars with Maven .*check access to Maven Central"):
            KafkaBroker(settings).start(progress=lambda _m: None)
    finally:
        del os.environ["K2_JARS_DIR"]
    assert not (tmp_path / "jars" / "0.0.404").exists()
    assert not (tmp_path / "jars" / "0.0.404.partial").exists()
    assert not (tmp_path / "s" / "kafka" / "kafka.pid").exists()


def test_corrupt_state_directory_is_one_line_error(tmp_path):
    settings = Settings(state_dir=tmp_path / "s", kafka=KafkaSettings(port=free_port(), controller_port=free_port()))
    data = settings.kafka_dir / "data"
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("garbage\n")
    with pytest.raises(StackError, match=r"Kafka state directory .* is corrupt .*k2 down --wipe"):
        KafkaBroker(settings).start(progress=lambda _m: None)
    assert not (settings.kafka_dir / "kafka.pid").exists()


def test_down_never_signals_a_process_it_did_not_start(tmp_path):
    settings = Settings(state_dir=tmp_path / "s")
    settings.kafka_dir.mkdir(parents=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (settings.kafka_dir / "kafka.pid").write_text(str(bystander.pid))
        assert KafkaBroker(settings).stop() == "Kafka not running"
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
