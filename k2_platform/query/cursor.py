"""Opaque pagination cursors: where the last page ended, which snapshot it read, which query it belongs to.

The cursor is base64url JSON, opaque by contract (clients pass it back unchanged). Decoding checks
every field's type and that the cursor belongs to the same query, so a forged or mangled cursor is
a clear 400, never an error deeper down.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

_VERSION = 1
_MAX_LEN = 512
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    snapshot_id: int
    after_us: int
    after_message_id: str
    query: str  # fingerprint of the query's parameters


def query_fingerprint(*params: object) -> str:
    return hashlib.sha256(json.dumps(params, default=str).encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor) -> str:
    payload = {"v": _VERSION, "s": cursor.snapshot_id, "t": cursor.after_us, "m": cursor.after_message_id, "q": cursor.query}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str, expected_query: str) -> Cursor:
    if len(text) > _MAX_LEN:
        raise BadCursor("cursor is too long to be one of ours")
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("cursor is not a cursor returned by this API (not decodable)") from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION or set(payload) != {"v", "s", "t", "m", "q"}:
        raise BadCursor("cursor is not a cursor returned by this API (unexpected content)")
    s, t, m, q = payload["s"], payload["t"], payload["m"], payload["q"]
    if not (type(s) is int and type(t) is int and isinstance(m, str) and _UUID.fullmatch(m) and isinstance(q, str)):
        raise BadCursor("cursor is not a cursor returned by this API (bad field types)")
    if q != expected_query:
        raise BadCursor("cursor belongs to a different query: repeat the same symbol, exchange, start and end")
    return Cursor(s, t, m, q)
