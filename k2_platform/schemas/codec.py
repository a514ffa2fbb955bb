"""Trades on the Kafka wire: framing, writer schemas, and reading records back.

Two framings, detected on read by their first byte:
- Avro single-object encoding (default): 0xC3 0x01, 8-byte CRC-64-AVRO fingerprint, body.
- Confluent wire format (when a schema registry is configured): 0x00, 4-byte schema id, body.
Writing (trade_encoder.TradeEncoder) registers its schema for the topic it produces to; reading
(TradeDecoder here) only looks schemas up, so a reader never creates a registry subject.
Timestamps decode as µs integers (no datetime round trip) and decimals as exact Decimals.
"""

from __future__ import annotations

import copy
import io
import json
import struct
from functools import cache
from importlib import resources
from typing import Protocol

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from .trade import SCHEMA_VERSION, avro_schema

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
SINGLE_OBJECT_HEADER = len(SINGLE_OBJECT_MAGIC) + 8  # magic, fingerprint
CONFLUENT_MAGIC = b"\x00"
CONFLUENT_HEADER = len(CONFLUENT_MAGIC) + 4  # magic, schema id
TRADE_SUBJECT_SUFFIX = "-value"
CURRENT_VERSION = SCHEMA_VERSION
KNOWN_VERSIONS = (1, 2)


class UndecodableRecord(ValueError):
    """Bytes that are not a trade record we can read; the message is the recorded reason."""


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


class WriterSchema:
    """One Avro trade schema as fastavro parsed it, with its single-object fingerprint."""

    def __init__(self, schema_json: dict):
        self.json = schema_json
        self.parsed = fastavro.parse_schema(schema_json)
        self.reader = fastavro.parse_schema(_raw_timestamps(schema_json))
        self.fingerprint = bytes.fromhex(fingerprint(to_parsing_canonical_form(self.parsed), "CRC-64-AVRO"))


@cache
def known_schema(version: int) -> WriterSchema:
    if version == CURRENT_VERSION:
        return WriterSchema(avro_schema())
    return WriterSchema(json.loads(resources.files(__package__).joinpath(f"avro/trade_v{version}.avsc").read_text()))


class SchemaLookup(Protocol):
    def lookup(self, schema_id: int) -> dict: ...


class SchemaRegistry(SchemaLookup, Protocol):
    def register(self, subject: str, schema_json: dict) -> int: ...


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


def registry_from_settings(settings) -> ConfluentSchemaRegistry | None:
    return ConfluentSchemaRegistry(settings.schema_registry_url) if settings.schema_registry_url else None


def header(schema: WriterSchema, registry: SchemaRegistry | None, topic: str | None) -> bytes:
    """The framing a producer to `topic` puts before every body; with a registry, registers `<topic>-value`."""
    if registry is None:
        return SINGLE_OBJECT_MAGIC + schema.fingerprint
    if not topic:
        raise ValueError("a schema registry subject needs the topic the records are produced to")
    return CONFLUENT_MAGIC + struct.pack(">I", registry.register(topic + TRADE_SUBJECT_SUFFIX, schema.json))


class TradeDecoder:
    """Reads trades of either framing into dicts shaped by the current schema; looks schemas up, never registers."""

    def __init__(self, registry: SchemaLookup | None = None):
        self.registry = registry
        self.current = known_schema(CURRENT_VERSION)
        self.by_fingerprint = {known_schema(v).fingerprint: known_schema(v) for v in KNOWN_VERSIONS}
        self._by_id: dict[int, WriterSchema] = {}

    def schema_for_id(self, schema_id: int) -> WriterSchema:
        if schema_id not in self._by_id:
            if self.registry is None:
                raise UndecodableRecord(f"Confluent-framed record (schema id {schema_id}) but no schema registry is configured")
            try:
                self._by_id[schema_id] = WriterSchema(self.registry.lookup(schema_id))
            except Exception as exc:
                raise UndecodableRecord(f"schema id {schema_id} not found in the registry: {exc}") from exc
        return self._by_id[schema_id]

    def decode(self, data: bytes) -> dict:
        if data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= SINGLE_OBJECT_HEADER:
            writer = self.by_fingerprint.get(data[2:SINGLE_OBJECT_HEADER])
            if writer is None:
                raise UndecodableRecord(f"unknown schema fingerprint {data[2:SINGLE_OBJECT_HEADER].hex()}")
            body = SINGLE_OBJECT_HEADER
        elif data[:1] == CONFLUENT_MAGIC and len(data) >= CONFLUENT_HEADER:
            writer = self.schema_for_id(struct.unpack(">I", data[1:CONFLUENT_HEADER])[0])
            body = CONFLUENT_HEADER
        else:
            raise UndecodableRecord(f"not an Avro trade record (first bytes {data[:4].hex() or 'empty'})")
        stream = io.BytesIO(data[body:])
        try:
            record = fastavro.schemaless_reader(stream, writer.reader, self.current.reader)
        except Exception as exc:  # fastavro raises many types for truncated or garbled bodies
            raise UndecodableRecord(f"corrupt Avro body: {type(exc).__name__}: {exc}") from exc
        # Bytes after a complete record mean the framing is wrong: the bulk decoder rejects them too.
        if stream.tell() != len(data) - body:
            raise UndecodableRecord(f"corrupt Avro body: {len(data) - body - stream.tell()} trailing bytes after the record")
        return record


def decoder_from_settings(settings) -> TradeDecoder:
    return TradeDecoder(registry_from_settings(settings))
