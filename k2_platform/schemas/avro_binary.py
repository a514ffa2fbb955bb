"""Avro binary encoding of the values a trade holds: longs (zigzag varints), strings, decimals."""

from __future__ import annotations

from decimal import Decimal

from .decimals import PRECISION, SCALE


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# Varints are little-endian 7-bit groups: a long is its low 14 bits (two continued bytes) followed
# by the varint of the rest. Timestamps of a burst share the rest, so it is memoized (bounded).
_SHORT = [_varint(i) for i in range(1 << 14)]
_LOW14 = [bytes(((i & 0x7F) | 0x80, ((i >> 7) & 0x7F) | 0x80)) for i in range(1 << 14)]
_HIGH: dict[int, bytes] = {}
_HIGH_MAX = 4096


def encode_long(n: int) -> bytes:
    """Avro long: zigzag, then varint."""
    n = (n << 1) ^ (n >> 63)
    if n < 0x4000:
        return _SHORT[n]
    high = n >> 14
    rest = _HIGH.get(high)
    if rest is None:
        if len(_HIGH) >= _HIGH_MAX:
            _HIGH.clear()
        rest = _HIGH[high] = _chunked_varint(high)
    return _LOW14[n & 0x3FFF] + rest


def _chunked_varint(n: int) -> bytes:
    """_varint by 14-bit table chunks: a µs timestamp's upper bits in three lookups, not six loop turns."""
    chunks = []
    while n >= 0x4000:
        chunks.append(_LOW14[n & 0x3FFF])
        n >>= 14
    chunks.append(_SHORT[n])
    return b"".join(chunks)


def encode_unscaled(unscaled: int) -> bytes:
    """Avro bytes of a decimal given as its unscaled integer (value * 10**scale)."""
    magnitude = -unscaled if unscaled < 0 else unscaled
    # fastavro sizes the two's complement from the magnitude: keep that exactly.
    size = (magnitude.bit_length() + 8) // 8
    return encode_long(size) + unscaled.to_bytes(size, "big", signed=True)


def encode_string(text: str) -> bytes:
    data = text.encode()
    return encode_long(len(data)) + data


def unscaled_of(value: Decimal) -> int | None:
    """The unscaled integer fastavro writes for a decimal(38, 18), or None where fastavro's precision and scale rules refuse it."""
    text = str(value)
    if "E" in text:  # exponent notation (e.g. 0E-8): take the slower general route
        sign, digits, exponent = value.as_tuple()
        coefficient, n_digits = int("".join(map(str, digits))), len(digits)
        coefficient = -coefficient if sign else coefficient
    else:
        whole, _, fraction = text.partition(".")
        coefficient, exponent = int(whole + fraction), -len(fraction)
        n_digits = len(str(abs(coefficient)))
    if n_digits > PRECISION or exponent + SCALE < 0:
        return None
    return coefficient * 10 ** (exponent + SCALE)
