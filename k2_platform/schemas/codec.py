"""Avro encoding of trades on the Kafka wire.

Two framings, detected on read by their first byte:
- Avro single-object encoding (default): 0xC3 0x01, 8-byte CRC-64-AVRO fingerprint, body.
- Confluent wire format (when a schema registry is configured): 0x00, 4-byte schema id, body.
Timestamps decode as µs integers (no datetime round trip) and decimals as exact Decimals.
"""
from __future__ import annotations

import copy
import io
import json
import struct
from functools import lru_cache
from importlib import resources
from typing import Protocol

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from .avro_writer import FastPathUnsupported, compile_record

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
TRADE_SUBJECT_SUFFIX = "-value"


class UndecodableRecord(ValueError):
    """Bytes that are not a trade record we can read; the message is the recorded reason."""


def load_schema_json(version: int) -> dict:
    return json.loads(resources.files(__package__).joinpath(f"avro/trade_v{version}.avsc").read_text())


def _raw_timestamps(schema):
    """Copy of schema whose timestamp-micros fields read as plain longs (fast, exact)."""
    schema = copy.deepcopy(schema)

    def strip(node):
        if isinstance(node, dict):
            if node.get("logicalType") == "timestamp-micros":
                node.pop("logicalType")
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(schema)
    return schema


class _Schema:
    def __init__(self, schema_json: dict):
        self.json = schema_json
        self.parsed = fastavro.parse_schema(schema_json)
        self.reader = fastavro.parse_schema(_raw_timestamps(schema_json))
        self.fingerprint = bytes.fromhex(fingerprint(to_parsing_canonical_form(self.parsed), "CRC-64-AVRO"))
        try:
            self.fast_writer = compile_record(schema_json)
        except FastPathUnsupported:
            self.fast_writer = None


@lru_cache(maxsize=None)
def known_schema(version: int) -> _Schema:
    return _Schema(load_schema_json(version))


CURRENT_VERSION = 2
KNOWN_VERSIONS = (1, 2)


class SchemaRegistry(Protocol):
    def register(self, subject: str, schema_json: dict) -> int: ...
    def lookup(self, schema_id: int) -> dict: ...


class ConfluentSchemaRegistry:
    """Schema registry over HTTP (Confluent API), through confluent-kafka's client."""

    def __init__(self, url: str):
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self._client = SchemaRegistryClient({"url": url})

    def register(self, subject: str, schema_json: dict) -> int:
        from confluent_kafka.schema_registry import Schema

        return self._client.register_schema(subject, Schema(json.dumps(schema_json), "AVRO"))

    def lookup(self, schema_id: int) -> dict:
        return json.loads(self._client.get_schema(schema_id).schema_str)


class TradeCodec:
    def __init__(self, registry: SchemaRegistry | None = None, topic: str = "market.crypto.trades", version: int = CURRENT_VERSION):
        self.registry = registry
        self.topic = topic
        self.writer = known_schema(version)
        self._reader = known_schema(CURRENT_VERSION)
        self._by_fingerprint = {known_schema(v).fingerprint: known_schema(v) for v in KNOWN_VERSIONS}
        self._by_id: dict[int, _Schema] = {}
        self._header = (
            SINGLE_OBJECT_MAGIC + self.writer.fingerprint
            if registry is None
            else CONFLUENT_MAGIC + struct.pack(">I", registry.register(topic + TRADE_SUBJECT_SUFFIX, self.writer.json))
        )

    @property
    def header(self) -> bytes:
        """The framing bytes every encoded record starts with (single-object fingerprint or Confluent id)."""
        return self._header

    def encode(self, record: dict) -> bytes:
        if self.writer.fast_writer is not None:
            out = [self._header]
            try:
                self.writer.fast_writer(record, out)
                return b"".join(out)
            except FastPathUnsupported:
                pass  # fastavro writes the same bytes, or raises its usual error
        buf = io.BytesIO()
        buf.write(self._header)
        fastavro.schemaless_writer(buf, self.writer.parsed, record)
        return buf.getvalue()

    def decode(self, data: bytes) -> dict:
        """Decode either framing into a dict shaped by the current schema."""
        if data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= 10:
            writer = self._by_fingerprint.get(data[2:10])
            if writer is None:
                raise UndecodableRecord(f"unknown schema fingerprint {data[2:10].hex()}")
            body = 10
        elif data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
            writer = self._schema_for_id(struct.unpack(">I", data[1:5])[0])
            body = 5
        else:
            raise UndecodableRecord(f"not an Avro trade record (first bytes {data[:4].hex() or 'empty'})")
        stream = io.BytesIO(data[body:])
        try:
            record = fastavro.schemaless_reader(stream, writer.reader, self._reader.reader)
        except Exception as exc:  # fastavro raises many types for truncated or garbled bodies
            raise UndecodableRecord(f"corrupt Avro body: {type(exc).__name__}: {exc}") from exc
        # Bytes after a complete record mean the framing is wrong: the bulk decoder rejects them too.
        if stream.tell() != len(data) - body:
            raise UndecodableRecord(f"corrupt Avro body: {len(data) - body - stream.tell()} trailing bytes after the record")
        return record

    def _schema_for_id(self, schema_id: int) -> _Schema:
        if schema_id not in self._by_id:
            if self.registry is None:
                raise UndecodableRecord(f"Confluent-framed record (schema id {schema_id}) but no schema registry is configured")
            try:
                self._by_id[schema_id] = _Schema(self.registry.lookup(schema_id))
            except Exception as exc:
                raise UndecodableRecord(f"schema id {schema_id} not found in the registry: {exc}") from exc
        return self._by_id[schema_id]


def codec_from_settings(settings, topic: str = "market.crypto.trades") -> TradeCodec:
    registry = ConfluentSchemaRegistry(settings.schema_registry_url) if settings.schema_registry_url else None
    return TradeCodec(registry=registry, topic=topic)
