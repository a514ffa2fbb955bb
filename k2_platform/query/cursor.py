"""Opaque pagination cursors: where the last page ended, which snapshot it read, which query it belongs to.

Where a page ended is the last row's key in the trade order (trades.TRADE_ORDER: trade_time, exchange,
symbol, sequence, message_id), so the next page continues by exactly the key the pages are sorted by.

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

_VERSION = 2  # 1 held (trade_time, message_id): pages then followed message_id order within a millisecond
_MAX_LEN = 512
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    snapshot_id: int
    after: tuple[int, str, str, int, str]  # (trade_time µs, exchange, symbol, sequence, message_id) of the last row
    query: str  # fingerprint of the query's parameters


def query_fingerprint(*params: object) -> str:
    return hashlib.sha256(json.dumps(params, default=str).encode()).hexdigest()[:16]


def encode_cursor(cursor: Cursor) -> str:
    payload = {"v": _VERSION, "s": cursor.snapshot_id, "k": list(cursor.after), "q": cursor.query}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str, expected_query: str) -> Cursor:
    if len(text) > _MAX_LEN:
        raise BadCursor("cursor is too long to be one of ours")
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor("cursor is not a cursor returned by this API (not decodable)") from None
    if isinstance(payload, dict) and payload.get("v") == 1:
        raise BadCursor("cursor is from an earlier version of this API: start the walk again without a cursor")
    if not isinstance(payload, dict) or payload.get("v") != _VERSION or set(payload) != {"v", "s", "k", "q"}:
        raise BadCursor("cursor is not a cursor returned by this API (unexpected content)")
    s, k, q = payload["s"], payload["k"], payload["q"]
    if not (
        type(s) is int and isinstance(q, str) and isinstance(k, list) and [type(v) for v in k] == [int, str, str, int, str] and _UUID.fullmatch(k[4])
    ):
        raise BadCursor("cursor is not a cursor returned by this API (bad field types)")
    if q != expected_query:
        raise BadCursor("cursor belongs to a different query: repeat the same symbol, exchange, start and end")
    return Cursor(s, tuple(k), q)
