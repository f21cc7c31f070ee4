"""What DynamoDB and our logs accept, checked while parsing so that the sink is never handed a value
it would refuse.

Why here, in ``parse``: a value DynamoDB cannot take fails *inside* botocore or the service
(``UnicodeEncodeError`` while serialising a lone surrogate, ``ParamValidationError`` for a mistyped
attribute, a ``ValidationException`` for a 39-digit number), after the records before it may have
been written, and for a whole group or batch of items at once. Checked in ``parse``, the record at
fault is the failure, at its own position; and ``stream-pipeline redrive``, which runs ``parse``
to decide whether a record "would pass", gives the same verdict as the handler.

The rules are DynamoDB's own (Developer Guide, "Supported data types and naming rules" and
"Quotas"): strings are UTF-8, so a lone surrogate (valid in JSON as ``"\\ud800"``, not encodable)
is refused; numbers have at most 38 significant digits and a magnitude from 1E-130 to
9.9999999999999999999999999999999999999E+125, and no NaN or Infinity; attribute names are 1 to
65,535 bytes; sets are non-empty and without duplicates; maps and lists nest at most 32 levels; an
item is at most 400 KB.

Every check is iterative (an explicit stack, never recursion), so a map nested 3,000 deep is a
poison record with a reason, not a ``RecursionError``. Reasons never quote a value or a name:
they say what is wrong and where in the record's structure, which is safe to log.
"""

from __future__ import annotations

import binascii
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from stream_pipeline.poison import PoisonRecord

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_NUMBER_DIGITS: Final = 38
MIN_NUMBER_EXPONENT: Final = -130
"""The smallest magnitude DynamoDB stores is 1E-130 (adjusted exponent -130)."""
MAX_NUMBER_EXPONENT: Final = 125
"""The largest is 9.99...E+125 (adjusted exponent 125)."""
MAX_NESTING: Final = 32
MAX_NAME_BYTES: Final = 65_535
MAX_ITEM_BYTES: Final = 400 * 1024
MAX_WHOLE: Final = 10**MAX_NUMBER_DIGITS - 1
"""The largest integer DynamoDB stores exactly (38 digits)."""

_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,6})?")
"""DynamoDB's number syntax in ASCII digits only. ``Decimal()`` alone is too lenient: it takes
``"1_000"``, surrounding spaces, non-ASCII digits, ``"NaN"`` and ``"Infinity"``."""


def encodable(text: str) -> bool:
    """True when ``text`` can be encoded as UTF-8 (no lone surrogates); ASCII takes the fast path."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def number_problem(text: Any) -> str | None:
    """Why ``text`` is not a number DynamoDB stores, or None when it is one."""
    if type(text) is not str or not _NUMBER.fullmatch(text):
        return "is not a decimal number"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "is not a decimal number"
    if not number:
        return None
    significant = len(bytes(number.as_tuple().digits).rstrip(b"\0"))  # trailing zeros do not count
    if significant > MAX_NUMBER_DIGITS:
        return f"has more than {MAX_NUMBER_DIGITS} significant digits"
    if not MIN_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        return "is outside DynamoDB's range (1E-130 to 9.9999999999999999999999999999999999999E+125)"
    return None


def _base64_length(text: Any) -> int | None:
    if type(text) is not str:
        return None
    try:
        return len(binascii.a2b_base64(text, strict_mode=True))
    except (binascii.Error, ValueError):
        return None


def _string(value: Any, what: str) -> int:
    if type(value) is not str:
        raise PoisonRecord(f"{what}: an S or SS value is not a string")
    if not encodable(value):
        raise PoisonRecord(f"{what}: a string is not valid UTF-8 (it has a lone surrogate)")
    return len(value) if value.isascii() else len(value.encode())


def _number(value: Any, what: str) -> int:
    problem = number_problem(value)
    if problem:
        raise PoisonRecord(f"{what}: a number {problem}")
    return len(value)  # the text's length: more than DynamoDB counts, never less


def _binary(value: Any, what: str) -> int:
    length = _base64_length(value)
    if length is None:
        raise PoisonRecord(f"{what}: a binary value is not valid base64")
    return length


def _boolean(value: Any, what: str) -> int:
    if type(value) is not bool:
        raise PoisonRecord(f"{what}: a BOOL value is not true or false")
    return 1


def _null(value: Any, what: str) -> int:
    if value is not True:
        raise PoisonRecord(f"{what}: a NULL value is not true")
    return 1


def _set(member: Callable[[Any, str], int], identity: Callable[[Any], Any]) -> Callable[[Any, str], int]:
    """A check of SS, NS or BS: a non-empty list of valid members, no two the same (by ``identity``)."""

    def check(value: Any, what: str) -> int:
        if type(value) is not list or not value:
            raise PoisonRecord(f"{what}: a set is empty or not a list (DynamoDB sets have at least one member)")
        size = sum(member(item, what) for item in value)
        if len({identity(item) for item in value}) != len(value):
            raise PoisonRecord(f"{what}: a set has duplicate members")
        return size

    return check


_SCALARS: Final[dict[str, Callable[[Any, str], int]]] = {
    "S": _string,
    "N": _number,
    "B": _binary,
    "BOOL": _boolean,
    "NULL": _null,
    "SS": _set(_string, str),
    "NS": _set(_number, Decimal),  # "1" and "1.0" are the same number: DynamoDB refuses both in one set
    "BS": _set(_binary, lambda text: binascii.a2b_base64(text, strict_mode=True)),
}
"""Each scalar and set type's check; returns the value's size in bytes."""


def _names_size(attributes: dict[Any, Any], what: str) -> int:
    size = 0
    for name in attributes:
        if type(name) is not str or not name or not encodable(name):
            raise PoisonRecord(f"{what}: an attribute name is empty or not valid UTF-8")
        length = len(name) if name.isascii() else len(name.encode())
        if length > MAX_NAME_BYTES:
            raise PoisonRecord(f"{what}: an attribute name is longer than {MAX_NAME_BYTES} bytes")
        size += length
    return size


def check_attributes(attributes: Any, what: str, max_depth: int = MAX_NESTING) -> int:
    """Check a DynamoDB attribute map (an image, or a key) as the stream delivers it (typed JSON:
    ``{"name": {"S": "text"}}``); return its size in bytes, or raise :class:`PoisonRecord`.

    ``max_depth`` counts the levels of maps and lists: a top-level attribute is at level 1, the
    members of a map or list one level below it. ``what`` names the part in the reason
    (``"NewImage"``)."""
    if type(attributes) is not dict:
        raise PoisonRecord(f"{what} is not a map of attributes")
    size = 0
    pending: list[tuple[Any, int]] = [(attributes, 1)]
    while pending:
        container, depth = pending.pop()
        if type(container) is dict:
            size += _names_size(container, what)
            values = list(container.values())
        else:
            values = container
        for value in values:
            if type(value) is not dict or len(value) != 1:
                raise PoisonRecord(f'{what}: an attribute value is not one typed value (like {{"S": ...}})')
            ((kind, inner),) = value.items()
            scalar = _SCALARS.get(kind)
            if scalar is not None:
                size += scalar(inner, what)
                continue
            if (kind, type(inner)) not in (("M", dict), ("L", list)):
                raise PoisonRecord(f"{what}: an attribute value has an unknown type, or an M or L of the wrong shape")
            if depth >= max_depth:
                raise PoisonRecord(f"{what} is nested deeper than {max_depth} levels")
            size += 1
            pending.append((inner, depth + 1))
    return size


def check_text(value: Any, what: str, max_length: int) -> str:
    """A string field that goes into the sink as it is: a string, UTF-8 encodable, bounded."""
    if type(value) is not str or len(value) > max_length or not encodable(value):
        raise PoisonRecord(f"{what} must be a UTF-8 string of at most {max_length} characters")
    return value


# ------------------------------------------------------------------ memory: user records per aggregate
LAMBDA_MIN_MEMORY_MB: Final = 128
LAMBDA_MAX_MEMORY_MB: Final = 10_240
RESERVED_MB: Final = 64
"""What the function holds before its first user record: the Python runtime, our imports and
boto3 (the one-record baseline: 37.5 MB in the local executor's worker, P7 and P7b), a 6 MB event
parsed into Python strings and dicts, and one aggregate's decoded bytes (P7b: 54.7 MB at the peak of
the four-bomb event, 5.3 MB), with room for the Lambda runtime's own process."""
BYTES_PER_USER_RECORD: Final = 2_560
"""The memory one user record of an aggregate adds at the peak of an invocation, MEASURED
(tests/memory_probe.py: resident high-water mark over the resident size before, per user record held
at once; tests/unit/test_bounds.py re-measures it on every run and fails if a change makes it cost
more). The archive processor is the costliest built-in (it holds a sink item per user record):
2,050 bytes for empty user records, 2,330 with the race's 170-byte messages, 2,470 for four
aggregates at the cap with a sink taking the writes (a run applied while the next aggregate is read);
the alleycat processors about 1,000, alleycat-window about 860. The figure covers the costliest."""
KINESIS_RECORD_BYTES: Final = 1024 * 1024
SMALLEST_USER_RECORD_BYTES: Final = 6
"""A user record takes at least six bytes of the protobuf: its tag and length, a key index, and an
empty data field (``1a 04 08 00 1a 00``)."""
MOST_USER_RECORDS_PER_KINESIS_RECORD: Final = KINESIS_RECORD_BYTES // SMALLEST_USER_RECORD_BYTES
"""174,762: no aggregate Kinesis can carry holds more."""


def max_user_records_per_aggregate(memory_mb: int) -> int:
    """The most user records one KPL aggregate may hold in a function of ``memory_mb`` MB; a larger
    aggregate is a poison record, counted before any user record is built. Also the most user records
    the pipeline holds at once: a batch of several aggregates is applied in chunks of at most this many
    (``pipeline.py``), so the whole invocation stays within the memory.

    ``(memory_mb - RESERVED_MB) MiB / BYTES_PER_USER_RECORD``: 26,214 at 128 MB, 78,643 at 256 MB;
    from 491 MB on, every aggregate a Kinesis record can hold (:data:`MOST_USER_RECORDS_PER_KINESIS_RECORD`)."""
    return max(0, memory_mb - RESERVED_MB) * 2**20 // BYTES_PER_USER_RECORD


def memory_for_user_records(user_records: int) -> int:
    """The least function memory (MB, within Lambda's 128 to 10,240) whose
    :func:`max_user_records_per_aggregate` takes aggregates of ``user_records`` user records: what the
    planner sizes from the producers' user records per aggregate."""
    needed = RESERVED_MB + -(-max(0, user_records) * BYTES_PER_USER_RECORD // 2**20)
    return min(max(needed, LAMBDA_MIN_MEMORY_MB), LAMBDA_MAX_MEMORY_MB)


def bounded(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (with an ellipsis when cut): log fields stay bounded."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expires_at(record_time: float | None, now: float, ttl_seconds: int) -> int:
    """When an archive or audit item expires (DynamoDB's TTL, epoch seconds): ``ttl_seconds`` after
    the record's own time, and never less than half of it after the write.

    The record's time makes the item a function of the record alone, so a redelivery of a recent
    record (a retry, a redrive, a replayed failure message) writes the very same item: nothing in
    the sink changes. The floor keeps a record replayed or redriven late (failures wait up to 90
    days, items live 30 by default) from being written already expired, where DynamoDB would delete
    it at once; such a record lives at least half the TTL from the write."""
    anchored = int(record_time) + ttl_seconds if record_time is not None else 0
    return max(anchored, int(now) + ttl_seconds // 2)
