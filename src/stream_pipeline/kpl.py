"""KPL aggregated records: one Kinesis record that carries many user records.

The Kinesis Producer Library (and aws-kinesis-agg's aggregator) packs user records into one Kinesis
record: the magic ``f3 89 9a c2``, a protobuf ``AggregatedRecord``, and the MD5 digest of the
protobuf bytes (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md)::

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;  // skipped: nothing downstream reads them
    }

**Our own decoder, not aws-kinesis-agg's deaggregator.** Measured (docs/BENCHMARKS.md, P4 and P9):
aws-kinesis-agg needs protobuf, whose fast (upb) wheels are per platform, so the zip would stop
being one pure-Python package for x86_64 and arm64; it would grow by about 0.5 MB; the protobuf
import adds to every cold start; and its deaggregator re-encodes every user record's data as
base64 in a new dict. The format is three fields deep and stable since 2015, so the decoder is
small; aws-kinesis-agg stays in the tests as the oracle (its aggregator makes the fixtures, its
deaggregator gives the expected user records).

**Counted before it is built.** One 1 MB Kinesis record can hold 166,662 empty user records, which
cost 330 MB as objects. :func:`count_user_records` reads the protobuf's top-level tags and lengths
only, and :func:`deaggregate` refuses an aggregate of more user records than the function's memory
allows (:func:`stream_pipeline.limits.max_user_records_per_aggregate`) as a poison record, before any
user record exists.

**A corrupt aggregate is poison, never passed through.** aws-kinesis-agg (and the KCL) hand a
record that starts with the magic but fails the MD5 check or the protobuf parse to the consumer
unchanged, as if it were one plain record, and aws-kinesis-agg prints the aggregate's raw bytes
to stderr and silently drops the rest of it when a key index is out of range. For us, a record
that starts with the KPL's magic was written by an aggregator: passed through, its bytes would fail
later as "not JSON" (a reason that hides the real problem) or, for a processor of raw bytes, be
applied as garbage; dropping user records loses them. So a bad checksum, a truncated or malformed
protobuf, an index outside its key table, a partition key that is not UTF-8 and an aggregate
without user records each raise :class:`PoisonRecord` with that reason, and the record goes to the
on-failure destination like any other poison record. (A plain record whose payload happens to
begin with those four bytes cannot be JSON: ``f3`` opens a four-byte UTF-8 sequence that ``c2``
cannot continue.)
"""

from __future__ import annotations

import hashlib
from typing import Final, NamedTuple

from stream_pipeline.poison import PoisonRecord

MAGIC: Final = b"\xf3\x89\x9a\xc2"
BASE64_PREFIX: Final = "84ma"
"""The base64 text of the magic's first three bytes: every aggregate's ``data`` starts with it, so
a plain record is told apart without decoding it (one ``startswith`` per record)."""
DIGEST_SIZE: Final = 16
_VARINT_MAX_BYTES: Final = 10
_LENGTH_DELIMITED: Final = 2


class UserRecord(NamedTuple):
    """One user record of an aggregate, as the producer put it."""

    partition_key: str
    explicit_hash_key: str | None
    data: bytes


def _corrupt(what: str) -> PoisonRecord:
    return PoisonRecord(f"aggregated record (KPL) is corrupt: {what}")


def _varint(buffer: bytes, position: int, end: int) -> tuple[int, int]:
    """A protobuf base-128 varint at ``position``: (value, position after it)."""
    value = 0
    for shift in range(0, 7 * _VARINT_MAX_BYTES, 7):
        if position >= end:
            raise _corrupt("the protobuf ends inside a number")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
    raise _corrupt("a protobuf number is longer than 10 bytes")


def _skip(buffer: bytes, wire_type: int, position: int, end: int) -> int:
    """Skip an unknown field's value (protobuf keeps unknown fields; we ignore them)."""
    if wire_type == 0:
        return _varint(buffer, position, end)[1]
    if wire_type == 1:
        position += 8
    elif wire_type == 5:
        position += 4
    elif wire_type == _LENGTH_DELIMITED:
        length, position = _varint(buffer, position, end)
        position += length
    else:  # groups (3, 4) are not in the format; 6 and 7 do not exist
        raise _corrupt(f"protobuf wire type {wire_type} is not allowed here")
    if position > end:
        raise _corrupt("the protobuf ends inside a field")
    return position


def _text(raw: bytes, table: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise _corrupt(f"a {table} is not UTF-8") from None


def _small(body: bytes, position: int, end: int) -> tuple[int, int]:
    """A varint, with the one-byte case (every index and tag here, and lengths below 128) inline."""
    if position < end and (byte := body[position]) < 0x80:
        return byte, position + 1
    return _varint(body, position, end)


def _record(body: bytes, position: int, end: int) -> tuple[int, int | None, bytes]:
    """One ``Record`` message: (partition key index, explicit hash key index, data)."""
    key_index: int | None = None
    hash_index: int | None = None
    data: bytes | None = None
    while position < end:
        tag = body[position]
        if tag == 0x08:  # field 1, varint: partition_key_index (the usual one-byte tag)
            key_index, position = _small(body, position + 1, end)
        elif tag == 0x1A:  # field 3, length-delimited: data
            length, position = _small(body, position + 1, end)
            if position + length > end:
                raise _corrupt("a user record's data is cut short")
            data = body[position : position + length]
            position += length
        elif tag == 0x10:  # field 2, varint: explicit_hash_key_index
            hash_index, position = _small(body, position + 1, end)
        else:
            tag, position = _varint(body, position, end)
            if tag >> 3 in (1, 2, 3) or tag >> 3 == 0:
                raise _corrupt("a user record has a field of the wrong type")
            position = _skip(body, tag & 7, position, end)  # tags (4) and any unknown field
    if key_index is None or data is None:
        raise _corrupt("a user record has no partition key index or no data")
    return key_index, hash_index, data


def _fast_record(body: bytes, position: int, stop: int) -> tuple[int, int | None, bytes] | None:
    """The usual ``Record`` (``08 kk [10 hh] 1a ll [ll] data``: one-byte indexes, a data length below
    16,384, nothing else) without a function call per field; None for anything else, which
    :func:`_record` then reads field by field. Reads stay inside the record: a short record
    makes the end check fail, never a read past ``stop`` into the next one."""
    if body[position] != 0x08 or (key := body[position + 1]) >= 0x80:
        return None
    at, hashed = position + 2, None
    if body[at] == 0x10 and (hashed := body[at + 1]) < 0x80:
        at += 2
    elif body[at] == 0x10:
        return None
    if body[at] != 0x1A:
        return None
    if (low := body[at + 1]) < 0x80:
        length, at = low, at + 2
    elif (high := body[at + 2]) < 0x80:
        length, at = (low & 0x7F) | high << 7, at + 3
    else:
        return None
    if at + length != stop:
        return None
    return key, hashed, body[at:stop]


def _fields(body: bytes) -> tuple[list[bytes], list[bytes], list[tuple[int, int | None, bytes]]]:
    """The ``AggregatedRecord``'s key tables and its records, in one pass. The tables usually come
    first (field order), but protobuf allows any order, so keys are resolved after the pass.

    Hand-inlined where it pays (make bench, P9): a record's tag and a length of one or two bytes
    are read in place, and the usual record layout in :func:`_fast_record`."""
    keys: list[bytes] = []
    hash_keys: list[bytes] = []
    records: list[tuple[int, int | None, bytes]] = []
    append = records.append
    position, end = 0, len(body)
    try:
        while position < end:
            if body[position] == 0x1A and (low := body[position + 1]) < 0x80:  # a record, length < 128
                start, stop = position + 2, position + 2 + low
            elif body[position] == 0x1A and (high := body[position + 2]) < 0x80:  # a record, length < 16,384
                start = position + 3
                stop = start + ((low & 0x7F) | high << 7)
            else:
                position = _field(body, position, end, (keys, hash_keys, records))
                continue
            if stop > end:
                raise _corrupt("the protobuf ends inside a record")
            append(_fast_record(body, start, stop) or _record(body, start, stop))
            position = stop
    except IndexError:  # a read at an offset past the end of the protobuf
        raise _corrupt("the protobuf ends inside a field") from None
    return keys, hash_keys, records


def _field(
    body: bytes,
    position: int,
    end: int,
    tables: tuple[list[bytes], list[bytes], list[tuple[int, int | None, bytes]]],
) -> int:
    """Read one top-level field of any shape into ``tables`` (keys, hash keys, records); return the
    position after it."""
    keys, hash_keys, records = tables
    tag, position = _small(body, position, end)
    field, wire_type = tag >> 3, tag & 7
    if field == 0:
        raise _corrupt("a protobuf field number is 0")
    if field > 3:  # the format's last field is records (3): unknown fields are skipped
        return _skip(body, wire_type, position, end)
    if wire_type != _LENGTH_DELIMITED:
        raise _corrupt("a table or record has the wrong protobuf type")
    length, position = _small(body, position, end)
    stop = position + length
    if stop > end:
        raise _corrupt("the protobuf ends inside a table or record")
    if field == 3:
        records.append(_record(body, position, stop))
    else:
        (keys if field == 1 else hash_keys).append(body[position:stop])
    return stop


def count_user_records(body: bytes) -> int:
    """How many user records (top-level field 3) the protobuf ``body`` holds, read from the
    top-level tags and lengths alone: no record is decoded and no object is built, so an aggregate
    of 166,662 empty user records is counted (in about 30 ms) before it can cost 300 MB.

    The count stops at the first malformed top-level field: what is wrong there is for
    :func:`deaggregate`'s full read to say, with the same reason whether or not a cap was given."""
    count, position, end = 0, 0, len(body)
    try:
        while position < end:
            if body[position] == 0x1A and (low := body[position + 1]) < 0x80:  # a record, length < 128
                count += 1
                position += 2 + low
                continue
            tag, position = _small(body, position, end)
            if tag & 7 == _LENGTH_DELIMITED:
                length, position = _small(body, position, end)
                position += length
                count += tag >> 3 == 3  # field 3: records
            else:
                position = _skip(body, tag & 7, position, end)
    except (IndexError, PoisonRecord):
        pass
    return count


def deaggregate(blob: bytes, max_user_records: int | None = None) -> list[UserRecord]:
    """The user records of an aggregate (``blob`` starts with :data:`MAGIC`), in order; their
    position is their sub-sequence number. Raises :class:`PoisonRecord` for a corrupt aggregate,
    and for one of more than ``max_user_records`` user records (counted first, see
    :func:`count_user_records`; the cap is :func:`stream_pipeline.limits.max_user_records_per_aggregate`)."""
    if len(blob) < len(MAGIC) + DIGEST_SIZE:
        raise _corrupt("it is shorter than its magic and checksum")
    body = blob[len(MAGIC) : -DIGEST_SIZE]
    if hashlib.md5(body, usedforsecurity=False).digest() != blob[-DIGEST_SIZE:]:
        raise _corrupt("its MD5 checksum does not match (truncated or altered)")
    if max_user_records is not None and (count := count_user_records(body)) > max_user_records:
        raise PoisonRecord(
            f"aggregated record (KPL) holds {count:,} user records, more than the {max_user_records:,} "
            "this function's memory allows (README, KPL aggregates: raise the function's memory)"
        )
    keys, hash_keys, records = _fields(body)
    if not records:
        raise _corrupt("it holds no user records")
    key_table = [_text(key, "partition key") for key in keys]
    hash_table = [_text(key, "explicit hash key") for key in hash_keys]
    new = tuple.__new__  # a NamedTuple built without its Python-level __new__: P9
    try:
        return [new(UserRecord, (key_table[k], None if h is None else hash_table[h], d)) for k, h, d in records]
    except IndexError:  # indexes are unsigned varints: only too large can fail
        raise _corrupt("a user record's key index is outside the key table") from None
