"""A schema-compiled Avro body writer, byte-identical to fastavro's schemaless_writer.

fastavro spends most of a trade's ~46 µs in generic type dispatch and its digit-by-digit decimal
conversion. Compiling the record schema once into a flat list of per-field writers, and turning
decimals into their unscaled integers with one exact context operation, writes the same bytes
several times faster. Anything outside the fast path (a type the compiler does not know, a value
of an unexpected Python type) raises FastPathUnsupported and the caller falls back to fastavro,
so the output is never different, only sometimes slower.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

Writer = Callable[[Any, list], None]


class FastPathUnsupported(Exception):
    """The schema or value needs fastavro's generic writer."""


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


def _decimal_encoder(precision: int, scale: int) -> Callable[[Decimal], bytes]:
    # Prices and sizes repeat a lot; the key is the text, which also pins the exponent.
    cache: dict[str, bytes] = {}

    def encode(value) -> bytes:
        if type(value) is not Decimal or not value.is_finite():
            raise FastPathUnsupported("decimal field holds a non-Decimal")
        key = str(value)
        encoded = cache.get(key)
        if encoded is None:
            if len(cache) >= _DECIMAL_CACHE_MAX:
                cache.clear()
            encoded = cache[key] = encode_unscaled(_unscaled(value, precision, scale))
        return encoded

    return encode


def encode_unscaled(unscaled: int) -> bytes:
    """Avro bytes of a decimal given as its unscaled integer (value * 10**scale)."""
    magnitude = -unscaled if unscaled < 0 else unscaled
    # fastavro sizes the two's complement from the magnitude: keep that exactly.
    size = (magnitude.bit_length() + 8) // 8
    return encode_long(size) + unscaled.to_bytes(size, "big", signed=True)


def encode_string(text: str) -> bytes:
    data = text.encode()
    return encode_long(len(data)) + data


def _unscaled(value: Decimal, precision: int, scale: int) -> int:
    """The unscaled integer fastavro writes, with fastavro's own precision and scale rules."""
    text = str(value)
    if "E" in text:  # exponent notation (e.g. 0E-8): take the slower general route
        sign, digits, exponent = value.as_tuple()
        coefficient, n_digits = int("".join(map(str, digits))), len(digits)
        coefficient = -coefficient if sign else coefficient
    else:
        whole, _, fraction = text.partition(".")
        coefficient, exponent = int(whole + fraction), -len(fraction)
        n_digits = len(str(abs(coefficient)))
    if n_digits > precision or exponent + scale < 0:
        raise FastPathUnsupported("decimal outside the schema's scale/precision")  # fastavro raises its own error
    return coefficient * 10 ** (exponent + scale)


_DECIMAL_CACHE_MAX = 1 << 16


class _Compiler:
    """Turns a record schema into the source of one straight-line writer function.

    Generated rather than composed from per-field closures: a call per field costs more than the
    field's encoding itself.
    """

    def __init__(self) -> None:
        self.env: dict[str, Any] = {"FastPathUnsupported": FastPathUnsupported, "encode_long": encode_long, "SHORT_LENGTHS": _SHORT[::2]}
        self.lines: list[str] = []

    def constant(self, value) -> str:
        name = f"c{len(self.env)}"
        self.env[name] = value
        return name

    def emit(self, line: str, depth: int) -> None:
        self.lines.append("    " * depth + line)

    def check(self, var: str, kind: str, field: str, depth: int) -> None:
        self.emit(f"if type({var}) is not {kind}:", depth)
        self.emit(f"raise FastPathUnsupported({field!r} + ' is not {kind}')", depth + 1)

    def value(self, schema, var: str, field: str, depth: int) -> None:
        if isinstance(schema, list):
            branches = [b for b in schema if b != "null"]
            if len(schema) != 2 or len(branches) != 1:
                raise FastPathUnsupported("only [null, T] unions are compiled")
            null_tag, value_tag = (b"\x00", b"\x02") if schema[0] == "null" else (b"\x02", b"\x00")
            self.emit(f"if {var} is None:", depth)
            self.emit(f"append({null_tag!r})", depth + 1)
            self.emit("else:", depth)
            self.emit(f"append({value_tag!r})", depth + 1)
            self.value(branches[0], var, field, depth + 1)
            return
        if isinstance(schema, str):
            schema = {"type": schema}
        kind, logical = schema["type"], schema.get("logicalType")
        if kind == "bytes" and logical == "decimal":
            encoder = self.constant(_decimal_encoder(schema["precision"], schema.get("scale", 0)))
            self.emit(f"append({encoder}({var}))", depth)
        elif kind in ("long", "int") and logical in (None, "timestamp-micros"):
            self.check(var, "int", field, depth)
            self.emit(f"append(encode_long({var}))", depth)
        elif kind == "string" and logical is None:
            self.check(var, "str", field, depth)
            self.emit(f"b_ = {var}.encode()", depth)
            self.emit("n_ = len(b_)", depth)
            self.emit("append(SHORT_LENGTHS[n_] if n_ < 8192 else encode_long(n_))", depth)
            self.emit("append(b_)", depth)
        elif kind == "boolean":
            self.check(var, "bool", field, depth)
            self.emit(f"append(b'\\x01' if {var} else b'\\x00')", depth)
        elif kind == "enum":
            tags = self.constant({s: encode_long(i) for i, s in enumerate(schema["symbols"])})
            self.emit(f"tag_ = {tags}.get({var}) if type({var}) is str else None", depth)
            self.emit("if tag_ is None:", depth)
            self.emit(f"raise FastPathUnsupported({field!r} + ': not an enum symbol')", depth + 1)
            self.emit("append(tag_)", depth)
        elif kind == "map":
            item = f"i{depth}"
            self.check(var, "dict", field, depth)
            self.emit(f"if {var}:", depth)
            self.emit(f"append(encode_long(len({var})))", depth + 1)
            self.emit(f"for k_, {item} in {var}.items():", depth + 1)
            self.value("string", "k_", field, depth + 2)
            self.value(schema["values"], item, field, depth + 2)
            self.emit("append(b'\\x00')", depth)
        else:
            raise FastPathUnsupported(f"type {kind}/{logical} is not compiled")

    def record(self, schema_json: dict) -> Callable[[dict, list], None]:
        self.emit("def write(record, out):", 0)
        self.emit("append = out.append", 1)
        self.emit("try:", 1)
        for n, field in enumerate(schema_json["fields"]):
            self.emit(f"v{n} = record[{field['name']!r}]", 2)
            self.value(field["type"], f"v{n}", field["name"], 2)
        self.emit("except KeyError as exc:", 1)
        self.emit("raise FastPathUnsupported(f'missing field {exc}') from None", 2)
        exec(compile("\n".join(self.lines), f"<avro writer {schema_json.get('name')}>", "exec"), self.env)
        return self.env["write"]


def compile_record(schema_json: dict) -> Callable[[dict, list], None]:
    """Writer appending the Avro body of a record dict to a list of byte chunks."""
    return _Compiler().record(schema_json)
