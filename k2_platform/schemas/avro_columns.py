"""Column-at-a-time decoding of a batch of Avro trade records: the silver hot path.

Decoding record by record through fastavro costs ~40 µs per trade; K2 must refine 60k trades/s.
Records of one writer schema share their layout, so this decoder walks every record of a batch at
once with numpy: one cursor per record, one vector step per field, strings gathered straight into
Arrow buffers, decimals turned into decimal128 without a Python Decimal. Any record it cannot walk
cleanly (truncated, garbled, trailing bytes, a decimal wider than decimal(38,18)) is flagged with
a reason, the precise one TradeDecoder.decode (fastavro) gives where it rejects the record too.
The columns are the current schema's fields (trade.TRADE_FIELDS), typed as TRADE_ARROW_SCHEMA.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa

from .codec import CONFLUENT_HEADER, CONFLUENT_MAGIC, SINGLE_OBJECT_HEADER, SINGLE_OBJECT_MAGIC, TradeDecoder
from .decimals import PRECISION, SCALE
from .trade import TRADE_FIELDS

DECIMAL = pa.decimal128(PRECISION, SCALE)
CHUNK = 65_536  # records per vector pass: bounds the per-field temporaries
CHUNK_BYTES = 1 << 30  # and its bytes: string views address a chunk's buffer with int32 offsets


PAD = 16  # zero bytes after a chunk's copy: fixed-width windows at any cursor stay inside the buffer
_WINDOW = np.arange(10, dtype=np.int64)
_SHIFTS = (7 * _WINDOW).astype(np.uint64)


class _Batch:
    """Cursors over n record bodies inside one byte buffer (padded with PAD zero bytes)."""

    def __init__(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        self.buf, self.pos, self.end = buf, starts.copy(), ends
        self.error = np.full(len(starts), "", dtype=object)
        self.ok = np.ones(len(starts), dtype=bool)

    def fail(self, mask: np.ndarray, reason: str) -> None:
        mask = mask & self.ok
        if mask.any():
            self.error[mask] = reason
            self.ok &= ~mask

    def varint(self, active: np.ndarray) -> np.ndarray:
        """Zigzag longs at the cursors of active records; cursors advance past them."""
        active = active & self.ok
        first = self.buf[self.pos]
        if not (active & (first >= 0x80)).any():  # every value fits one byte: lengths, enums, branches
            self.fail(active & (self.pos >= self.end), "truncated record")
            active &= self.ok
            raw, size = first.astype(np.int64), active.astype(np.int64)
        else:
            window = self.buf[np.minimum(self.pos, len(self.buf) - PAD)[:, None] + _WINDOW]
            more = window >= 0x80
            endless = more.all(axis=1)
            size = np.where(endless, 10, more.argmin(axis=1) + 1)
            self.fail(active & (self.pos + size > self.end), "truncated record")
            self.fail(active & endless, "varint longer than 10 bytes")
            active &= self.ok
            used = _WINDOW < size[:, None]
            raw = np.bitwise_or.reduce(np.where(used, (window & 0x7F).astype(np.uint64) << _SHIFTS, np.uint64(0)), axis=1)
            raw = (raw >> np.uint64(1)).astype(np.int64) ^ -(raw & np.uint64(1)).astype(np.int64)
            size = np.where(active, size, 0)
            self.pos += size
            return np.where(active, raw, 0)
        self.pos += size
        return np.where(active, (raw >> 1) ^ -(raw & 1), 0)

    def span(self, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) of the bytes/string at the cursors; cursors skip past them."""
        length = self.varint(active)
        self.fail(active & (length < 0), "negative length")
        self.fail(active & (self.pos + length > self.end), "truncated record")
        live = active & self.ok
        length = np.where(live, length, 0)
        start = self.pos.copy()
        self.pos += length
        return start, length


def _validity(valid: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())


def _views(buf: np.ndarray, start: np.ndarray, length: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A binary view array pointing into buf: Arrow copies the bytes out in one C++ pass.

    View layout (16 bytes): int32 length, then the bytes inline when <= 12, else a 4-byte prefix,
    int32 buffer index (0) and int32 offset into buf.
    """
    n = len(start)
    views = np.zeros((n, 16), dtype=np.uint8)
    words = views.view(np.int32).reshape(n, 4)
    words[:, 0] = length
    head = buf[np.minimum(start, len(buf) - PAD)[:, None] + np.arange(12)]
    views[:, 4:] = np.where(np.arange(12) < length[:, None], head, 0)
    long = length > 12
    words[long, 2] = 0
    words[long, 3] = start[long]
    return pa.Array.from_buffers(pa.binary_view(), n, [_validity(valid), pa.py_buffer(views), pa.py_buffer(buf)])


def _strings(b: _Batch, start, length, valid, string_type: pa.DataType = pa.large_string(), owner=None) -> pa.Array:
    """Strings at (start, length); owner[i] is the record string i belongs to (default: record i)."""
    try:
        return _views(b.buf, start, length, valid).cast(string_type)  # validates UTF-8
    except pa.ArrowInvalid:  # invalid UTF-8 somewhere: find the records, fail them, decode the rest
        owner = np.arange(len(start)) if owner is None else owner
        raw = _views(b.buf, start, length, valid).cast(pa.large_binary())
        for i in np.flatnonzero(valid):
            try:
                raw[int(i)].as_py().decode("utf-8")
            except UnicodeDecodeError:
                b.fail(np.arange(len(b.ok)) == owner[i], "invalid UTF-8 in a string")
        still = b.ok[owner]
        return _strings(b, start, np.where(still, length, 0), valid & still, string_type, owner)


def _decimals(b: _Batch, start, length, valid) -> pa.Array:
    """Avro decimal bytes (big-endian two's complement, scale 18) as decimal128(38, 18)."""
    b.fail(valid & (length > 16), "decimal wider than decimal(38,18)")
    valid = valid & b.ok
    length = np.where(valid, length, 0)
    n = len(start)
    j = np.arange(16)
    last = np.minimum(start + length - 1, len(b.buf) - 1)
    little_endian = b.buf[np.maximum(last[:, None] - j, 0)]  # byte j of the value counted from its end
    negative = valid & (length > 0) & (b.buf[np.minimum(start, len(b.buf) - 1)] >= 0x80)
    out = np.where(j < length[:, None], little_endian, np.where(negative, 0xFF, 0)[:, None]).astype(np.uint8)
    arr = pa.Array.from_buffers(DECIMAL, n, [_validity(valid), pa.py_buffer(out)])
    # decimal128 holds up to ~1.7e38 unscaled; precision 38 stops at 1e38 - 1
    too_big = np.zeros(n, dtype=bool)
    hi = out.view(np.int64).reshape(n, 2)[:, 1]
    maybe = valid & (np.abs(hi) >= (10**38 >> 64))
    for i in np.flatnonzero(maybe):
        too_big[i] = abs(int.from_bytes(out[i].tobytes(), "little", signed=True)) >= 10**38
    b.fail(too_big, "decimal wider than decimal(38,18)")
    return arr


def _field(b: _Batch, ftype, active: np.ndarray) -> pa.Array:
    """Decode one field of the parsed writer schema for the active records."""
    if isinstance(ftype, list):  # union
        branch = b.varint(active)
        b.fail(active & ((branch < 0) | (branch >= len(ftype))), "invalid union branch")
        nulls = [i for i, t in enumerate(ftype) if t == "null"]
        if len(ftype) != 2 or len(nulls) != 1:
            raise NotImplementedError(f"union {ftype}")
        some = active & b.ok & (branch != nulls[0])
        return _field(b, ftype[1 - nulls[0]], some)
    if isinstance(ftype, dict):
        kind = ftype["type"]
        if kind == "enum":
            idx = b.varint(active)
            b.fail(active & ((idx < 0) | (idx >= len(ftype["symbols"]))), "invalid enum index")
            ok = active & b.ok
            return pa.DictionaryArray.from_arrays(
                pa.array(np.where(ok, idx, 0).astype(np.int32), mask=~ok), pa.array(ftype["symbols"], pa.string())
            ).cast(pa.large_string())
        if kind == "bytes" and ftype.get("logicalType") == "decimal":
            if ftype.get("scale", 0) != SCALE:
                raise NotImplementedError("decimal scale other than 18")
            start, length = b.span(active)
            return _decimals(b, start, length, active & b.ok)
        if kind == "map" and ftype["values"] == "string":
            return _string_map(b, active)
        if kind in ("long", "int") and ftype.get("logicalType") in ("timestamp-micros", None):
            return _field(b, kind, active)
        raise NotImplementedError(f"type {ftype}")
    if ftype in ("long", "int"):
        v = b.varint(active)
        ok = active & b.ok
        return pa.array(v, pa.int64() if ftype == "long" else pa.int32(), mask=~ok)
    if ftype == "string":
        start, length = b.span(active)
        return _strings(b, start, length, active & b.ok)
    raise NotImplementedError(f"type {ftype}")


def _string_map(b: _Batch, active: np.ndarray) -> pa.Array:
    n = len(b.pos)
    rows, key_spans, val_spans = [], [], []
    remaining = np.zeros(n, dtype=np.int64)
    reading = active.copy()
    while True:
        need_count = reading & b.ok & (remaining == 0)
        if need_count.any():
            count = b.varint(need_count)
            negative = need_count & (count < 0)
            if negative.any():
                b.varint(negative)  # a negative count is followed by the block's byte size
            remaining = np.where(need_count, np.abs(count), remaining)
            reading &= ~(need_count & (count == 0))
        reading &= b.ok
        if not reading.any():
            break
        ks, kl = b.span(reading)
        vs, vl = b.span(reading)
        live = reading & b.ok
        idx = np.flatnonzero(live)
        rows.append(idx)
        key_spans.append((ks[idx], kl[idx]))
        val_spans.append((vs[idx], vl[idx]))
        remaining[live] -= 1
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    order = np.argsort(row, kind="stable")
    ks = np.concatenate([s for s, _ in key_spans])[order] if rows else row
    kl = np.concatenate([n for _, n in key_spans])[order] if rows else row
    vs = np.concatenate([s for s, _ in val_spans])[order] if rows else row
    vl = np.concatenate([n for _, n in val_spans])[order] if rows else row
    ok_entries = b.ok[row[order]] if rows else np.zeros(0, dtype=bool)
    owner = row[order]
    keys = _strings(b, ks, np.where(ok_entries, kl, 0), np.ones(len(ks), dtype=bool), pa.string(), owner)
    values = _strings(b, vs, np.where(ok_entries, vl, 0), np.ones(len(vs), dtype=bool), pa.string(), owner)
    ok_entries &= b.ok[owner]  # a record failed for invalid UTF-8 in its map keeps no entries
    counts = np.bincount(row[order][ok_entries], minlength=n) if rows else np.zeros(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    if not ok_entries.all():
        keys, values = keys.filter(pa.array(ok_entries)), values.filter(pa.array(ok_entries))
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values, type=pa.map_(pa.string(), pa.string()))


def _fields(schema) -> list[tuple[str, object]]:
    return [(f["name"], f["type"]) for f in schema["fields"]]


def _default(reader_field: dict, n: int, arrow_type: pa.DataType) -> pa.Array:
    if "default" not in reader_field:
        raise NotImplementedError(f"field {reader_field['name']} has no default")
    value = reader_field["default"]
    return pa.array([value] * n, arrow_type) if value is not None else pa.nulls(n, arrow_type)


def _decode_group(buf, starts, ends, writer_parsed, reader_json, arrow_schema: pa.Schema) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    lo, hi = int(starts.min()), int(ends.max())
    local = np.zeros(hi - lo + PAD, dtype=np.uint8)  # the chunk's bytes, padded: views and windows index it directly
    local[: hi - lo] = buf[lo:hi]
    b = _Batch(local, starts - lo, ends - lo)
    everyone = np.ones(len(starts), dtype=bool)
    columns = {name: _field(b, ftype, everyone) for name, ftype in _fields(writer_parsed)}
    b.fail(b.pos != b.end, "trailing bytes after the record")
    out = []
    for f in reader_json["fields"]:
        target = arrow_schema.field(f["name"]).type
        out.append(columns[f["name"]].cast(target) if f["name"] in columns else _default(f, len(starts), target))
    return pa.Table.from_arrays(out, schema=arrow_schema), b.ok, b.error


# The column type of each kind of trade field: times stay µs integers, enums decode as strings.
_ARROW_TYPES = {
    "string": pa.large_string(),
    "decimal": DECIMAL,
    "timestamp": pa.int64(),
    "long": pa.int64(),
    "int": pa.int32(),
    "string_map": pa.map_(pa.string(), pa.string()),
}
TRADE_ARROW_SCHEMA = pa.schema([(f.name, _ARROW_TYPES[f.kind]) for f in TRADE_FIELDS])


def decode_trades(values: pa.Array, decoder: TradeDecoder) -> tuple[pa.Table, np.ndarray]:
    """Decode Avro trade values (either wire format) into columns shaped by the current schema.

    Returns the columns (all-null rows where decoding failed) and, per row, "" or the reason the
    record cannot be read.
    """
    values = values.cast(pa.large_binary())
    if isinstance(values, pa.ChunkedArray):  # decoded chunk by chunk: combining them would copy every value
        if values.num_chunks != 1:
            parts = [decode_trades(chunk, decoder) for chunk in values.chunks]
            return (
                pa.concat_tables([t for t, _ in parts]) if parts else TRADE_ARROW_SCHEMA.empty_table(),
                np.concatenate([e for _, e in parts]) if parts else np.zeros(0, dtype=object),
            )
        values = values.chunk(0)
    n = len(values)
    schema = TRADE_ARROW_SCHEMA
    if n == 0:
        return schema.empty_table(), np.zeros(0, dtype=object)
    raw_offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset : values.offset + n + 1]
    data_buf = values.buffers()[2]
    buf = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and data_buf.size else np.zeros(1, np.uint8)
    begin, end = raw_offsets[:-1], raw_offsets[1:]
    length = end - begin
    errors = np.full(n, "", dtype=object)
    groups = _writer_groups(buf, begin, length, decoder, errors)
    errors[values.is_null().to_numpy(zero_copy_only=False)] = "empty record value"
    pieces, piece_rows = [], []
    for (writer_parsed, header), rows in groups.items():
        for idx in _chunks(rows, length):
            table, ok, err = _decode_group(buf, begin[idx] + header, end[idx], writer_parsed, decoder.current.json, schema)
            errors[idx[~ok]] = err[~ok]
            pieces.append(table)
            piece_rows.append(idx)
    failed = np.flatnonzero(errors != "")
    if not failed.size and len(groups) == 1:  # the usual batch: one writer schema, nothing failed, rows in order
        return pa.concat_tables(pieces), errors
    if failed.size:
        pieces.append(pa.Table.from_arrays([pa.nulls(failed.size, f.type) for f in schema], schema=schema))
        piece_rows.append(failed)
        for i in failed:
            errors[i] = _precise_reason(decoder, values[int(i)].as_py(), errors[i])
    order = np.argsort(np.concatenate(piece_rows), kind="stable")
    rows_all = np.concatenate(piece_rows)
    # rows decoded in a group but failed are present twice (group piece + null piece): keep one
    combined = pa.concat_tables(pieces).take(pa.array(order))
    first = np.ones(len(order), dtype=bool)
    sorted_rows = rows_all[order]
    first[1:] = sorted_rows[1:] != sorted_rows[:-1]
    keep = first.copy()
    if failed.size:
        # of a failed row's two copies keep the all-null one (it comes last in piece order)
        last = np.ones(len(order), dtype=bool)
        last[:-1] = sorted_rows[:-1] != sorted_rows[1:]
        keep = last
    return combined.filter(pa.array(keep)), errors


def _chunks(rows: np.ndarray, length: np.ndarray):
    """Row groups of at most CHUNK records and CHUNK_BYTES bytes (a chunk's buffer offsets are int32)."""
    lo = 0
    while lo < len(rows):
        sizes = np.cumsum(length[rows[lo : lo + CHUNK]])
        take = max(int(np.searchsorted(sizes, CHUNK_BYTES, side="right")), 1)
        yield rows[lo : lo + take]
        lo += take


def _precise_reason(decoder: TradeDecoder, value: bytes | None, fallback: str) -> str:
    if not value:
        return "empty record value"
    try:
        decoder.decode(value)
    except Exception as exc:  # UndecodableRecord, or a registry error: its text is the reason
        return str(exc)
    return fallback


def _writer_groups(buf, begin, length, decoder: TradeDecoder, errors) -> dict:
    """Rows per (parsed writer schema, header length), from each value's framing."""
    first = buf[np.minimum(begin, len(buf) - 1)]
    second = buf[np.minimum(begin + 1, len(buf) - 1)]
    single = (first == SINGLE_OBJECT_MAGIC[0]) & (second == SINGLE_OBJECT_MAGIC[1]) & (length >= SINGLE_OBJECT_HEADER)
    confluent = (first == CONFLUENT_MAGIC[0]) & (length >= CONFLUENT_HEADER) & ~single
    groups: dict = {}
    if single.any():
        fps = np.stack([buf[begin[single] + 2 + k] for k in range(8)], axis=1)
        rows = np.flatnonzero(single)
        for fp, writer in decoder.by_fingerprint.items():
            match = (fps == np.frombuffer(fp, dtype=np.uint8)).all(axis=1)
            if match.any():
                groups[(_Parsed(writer.json), SINGLE_OBJECT_HEADER)] = rows[match]
            single[rows[match]] = False
        errors[np.flatnonzero(single)] = "unknown schema fingerprint"
    if confluent.any():
        ids = np.stack([buf[begin[confluent] + 1 + k] for k in range(4)], axis=1).astype(np.uint32)
        schema_ids = (ids[:, 0] << 24) | (ids[:, 1] << 16) | (ids[:, 2] << 8) | ids[:, 3]
        rows = np.flatnonzero(confluent)
        for schema_id in np.unique(schema_ids):
            members = rows[schema_ids == schema_id]
            try:
                writer = decoder.schema_for_id(int(schema_id)).json
            except Exception:  # its precise reason comes from TradeDecoder.decode
                writer = None
            if writer is None:
                errors[members] = f"Confluent-framed record with schema id {schema_id} that cannot be resolved"
            else:
                groups[(_Parsed(writer), CONFLUENT_HEADER)] = members
    neither = ~(single | confluent) & (errors == "")
    for key, rows in groups.items():
        neither[rows] = False
    errors[neither] = "not an Avro trade record"
    return groups


class _Parsed(dict):
    """A writer schema usable as a dict key (by identity of its JSON text)."""

    def __init__(self, schema_json: dict):
        super().__init__(schema_json)
        self._key = struct.pack(">Q", hash(repr(schema_json)) & (2**64 - 1))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Parsed) and self._key == other._key
