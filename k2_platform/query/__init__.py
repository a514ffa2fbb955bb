"""Query layer: DuckDB over K2's Iceberg tables, the exact hybrid (Iceberg + Kafka tail) read, the REST API.

Usable without Dagster or the API: `QueryEngine.from_settings(settings)` plans files with pyiceberg and
reads them with DuckDB; `QueryService` adds the trade/bar/summary queries and the Kafka tail.
"""
