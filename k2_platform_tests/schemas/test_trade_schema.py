"""The trade's fields are defined once (schemas.trade.Trade); the wire, Arrow and Iceberg schemas follow them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields

from k2_platform.lakehouse.table_specs import GOLD, TRADE_TABLE_COLUMNS, silver_spec
from k2_platform.schemas.avro_columns import TRADE_ARROW_SCHEMA
from k2_platform.schemas.codec import known_schema
from k2_platform.schemas.trade import FIELD_NAMES, Trade, avro_schema


def test_the_derived_v2_schema_is_the_published_contract():
    # The v2 schema as published in trade_v2.avsc before it was derived: any change is a new schema version.
    assert known_schema(2).fingerprint.hex() == "4202828ec4968dcd"
    assert hashlib.sha256(json.dumps(avro_schema(), sort_keys=True).encode()).hexdigest() == (
        "e11fbf2df6165544bcc4841353f3bde7076180b809109285b7e9d8b1cab1f276"
    )
    assert known_schema(1).fingerprint.hex() == "7d7b106696996574"


def test_evolution_from_v1_is_backward_compatible():
    v1, v2 = ({f["name"]: f for f in known_schema(v).json["fields"]} for v in (1, 2))
    assert set(v1) <= set(v2)
    assert all(v2[name]["type"] == field["type"] for name, field in v1.items())  # no field changed its type
    assert [name for name in v2 if name not in v1] == ["quote_quantity", "event_time", "vendor_data"]
    assert all("default" in v2[name] for name in v2 if name not in v1)  # v1 records get the defaults


def test_every_schema_follows_the_trade_fields_in_wire_order():
    assert [f.name for f in fields(Trade)] == list(FIELD_NAMES) == [f["name"] for f in avro_schema()["fields"]]
    assert TRADE_ARROW_SCHEMA.names == list(FIELD_NAMES)
    assert [name for name, _type, _required in TRADE_TABLE_COLUMNS] == list(FIELD_NAMES)
    assert [f.name for f in GOLD.schema().fields] == list(FIELD_NAMES)
    assert [f.name for f in silver_spec("kraken").schema().fields][: len(FIELD_NAMES)] == list(FIELD_NAMES)
    optional = [f.name for f in GOLD.schema().fields if not f.required]
    assert optional == ["event_time", "vendor_data"]  # quote_quantity is nullable on the wire only (v1), silver fills it
