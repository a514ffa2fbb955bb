"""The feed_gaps record: one trade-id gap a feed detected, and whether REST history repaired it.

Wire format (Kafka topic `settings.topics.feed_gaps`, key `<exchange>|<symbol>`): a UTF-8 JSON
object with exactly the columns of the `feed_gaps` table (without the Kafka source position):
  {"exchange": "binance", "symbol": "BTCUSDT", "first_missing_id": 101, "last_missing_id": 120,
   "missing_count": 20, "detected_at": 1723161255342000 (µs since epoch, UTC), "repaired": true,
   "repaired_count": 20, "detail": "..."}
The ingest side writes it with encode(); the medallion side reads it with decode().
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields


class UndecodableGap(ValueError):
    """Bytes that are not a feed-gap record; the message is the recorded reason."""


@dataclass(frozen=True)
class FeedGap:
    exchange: str
    symbol: str
    first_missing_id: int
    last_missing_id: int
    missing_count: int
    detected_at: int  # µs since epoch, UTC
    repaired: bool
    repaired_count: int
    detail: str | None = None

    def key(self) -> bytes:
        return f"{self.exchange}|{self.symbol}".encode()

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()


_TYPES = {f.name: f.type for f in fields(FeedGap)}
_KINDS = {"str": str, "int": int, "bool": bool}


def decode(data: bytes) -> FeedGap:
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UndecodableGap(f"feed gap is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise UndecodableGap("feed gap is not a JSON object")
    values = {}
    for name, type_text in _TYPES.items():
        value = raw.get(name)
        optional = type_text.endswith("| None")
        kind = _KINDS[type_text.split(" ")[0]]
        if value is None and optional:
            values[name] = None
        elif type(value) is not kind:  # bool is not accepted for int, nor int for bool
            raise UndecodableGap(f"feed gap field {name}: expected {kind.__name__}, got {value!r}")
        else:
            values[name] = value
    return FeedGap(**values)
