"""Fetching the Kafka broker jars from Maven Central with the machine's Maven, once per version."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from ..settings import Settings
from .errors import StackError


def jars_present(jars_dir: Path, version: str) -> bool:
    return (jars_dir / f"kafka_2.13-{version}.jar").is_file()


def ensure_kafka_jars(settings: Settings, progress=print) -> Path:
    jars_dir, version = settings.kafka_jars_dir, settings.kafka.version
    if jars_present(jars_dir, version):
        return jars_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("Maven (mvn) not found: it fetches the Kafka jars; install it (apt-get install maven) and retry")
    partial = jars_dir.with_name(jars_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    pom = resources.files(__package__).joinpath("kafka-pom.xml")
    progress(f"Fetching Apache Kafka {version} jars with Maven into {jars_dir} (first run only)...")
    with resources.as_file(pom) as pom_path:
        argv = [
            mvn,
            "-B",
            "-f",
            str(pom_path),
            "dependency:copy-dependencies",
            f"-Dkafka.version={version}",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail: list[str] = []
        for line in proc.stdout:
            tail = (tail + [line.rstrip()])[-20:]
            if "Downloaded from" in line or "Copying" in line:
                progress("  " + line.strip().split("/")[-1][:100])
        proc.wait()
    if proc.returncode != 0 or not jars_present(partial, version):
        shutil.rmtree(partial, ignore_errors=True)
        errors = [l for l in tail if "ERROR" in l] or tail[-3:]
        raise StackError(
            f"could not fetch the Kafka {version} jars with Maven ({(errors[0] if errors else 'no output')[:300]}); "
            "check access to Maven Central, or point K2_JARS_DIR at a directory holding them"
        )
    shutil.rmtree(jars_dir, ignore_errors=True)
    partial.rename(jars_dir)
    progress(f"Kafka jars ready ({len(list(jars_dir.glob('*.jar')))} jars).")
    return jars_dir


if __name__ == "__main__":  # used by the set-up scripts: fetch jars ahead of the first `k2 up`
    from ..settings import load_settings

    try:
        ensure_kafka_jars(load_settings())
    except StackError as exc:
        sys.exit(f"k2: {exc}")
