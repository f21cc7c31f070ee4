"""Re-delivering records to the consumer that failed them, exactly once per ledger, and never into
the stream.

The records go back the way Lambda delivers them: a synchronous Invoke of the consumer's own
function with an event in Lambda's format for the source (Kinesis or DynamoDB Streams), each record
with its original sequence number and bytes (a KPL aggregate as the aggregate), in events within
Lambda's 6 MB synchronous payload. One path for both sources. The processors are idempotent on the
(extended) sequence number, so a record the function had applied already changes nothing, and the
stream's other consumers see nothing at all.

Each record is claimed in the ledger before the Invoke and confirmed after the function answered.
The function's partial batch response is honoured: a record it fails again (and every later one,
which it does not attempt) has its claim dropped and stays in the failure path, with the reason the
handler logged (read from the invocation's log tail, ``LogType=Tail``: untrusted text, escaped and
bounded). An Invoke that certainly did not run (an error answer below HTTP 500: throttled, refused)
drops the claims, so a later run delivers the records; one whose outcome is unknown (a 5xx, a timeout,
a lost connection, an answer that cannot be read) leaves them, and the records are *in doubt* until
an operator settles them. Either way the failure's remaining records wait for the next run, so no
record of a shard goes back ahead of an earlier one.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.printable import shown
from stream_pipeline_ops.redrive.reading import sequence_of

if TYPE_CHECKING:
    from stream_pipeline_ops.redrive.ledger import Entry, Ledger
    from stream_pipeline_ops.redrive.target import Target

PAYLOAD_BYTES: Final = 6 * 1024 * 1024  # Lambda's synchronous Invoke payload, request and response alike
EVENT_BYTES: Final = PAYLOAD_BYTES - 64 * 1024  # an event's records, with room for its envelope
TAIL_BYTES: Final = 4096  # LogType=Tail: the last 4 KB of the invocation's log
REASON_LIMIT: Final = 200
NOT_ATTEMPTED: Final = "not attempted: an earlier record of the redelivery failed"


@dataclass
class Delivery:
    done: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # sequence -> the function's reason: still failing
    skipped: int = 0  # user records the function reported already applied (DuplicatesSkipped)
    in_doubt: list[str] = field(default_factory=list)  # claimed, outcome unknown: settle them
    errors: list[str] = field(default_factory=list)  # why a delivery stopped, payload-free


def uncertain(exc: Exception) -> bool:
    """Might the request have landed? Only an error answer below 500 says certainly not."""
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)) >= 500
    return True


def describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response["Error"]
        return f"{shown(error.get('Code', '?'), 60)}: {shown(error.get('Message', ''), 160)}"
    return f"{type(exc).__name__}: {shown(str(exc), 160)}"


def size_of(record: dict[str, Any]) -> int:
    return len(json.dumps(record, separators=(",", ":"))) + 1


def chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive runs of records whose event stays within EVENT_BYTES (a Kinesis record is at most
    1 MB, 1.4 MB as base64; a DynamoDB record 800 KB of images: each fits alone)."""
    found: list[list[dict[str, Any]]] = [[]]
    size = 0
    for record in records:
        length = size_of(record)
        if found[-1] and size + length > EVENT_BYTES:
            found.append([])
            size = 0
        found[-1].append(record)
        size += length
    return [chunk for chunk in found if chunk]


def deliver(lam: Any, target: Target, ledger: Ledger, shard: str, records: list[dict[str, Any]]) -> Delivery:
    """Invoke the function with the records, in order, one event per chunk; stop at the first chunk
    that does not go through whole."""
    result = Delivery()
    for chunk in chunks(records):
        claims = _claim_all(ledger, target, shard, chunk, result)
        if len(claims) < len(chunk):  # another run holds one: deliver nothing of this chunk, nor after it
            for _sequence, claim in claims:
                ledger.release(claim)
            result.errors.append("a record was claimed by another run")
            return result
        answer = _invoke(lam, target, chunk)
        if isinstance(answer, str):  # not invoked, or failed as a whole: nothing of it counts as delivered
            result.errors.append(answer)
            for _sequence, claim in claims:
                ledger.release(claim)
            return result
        if answer is None:  # it may have run: every claim is in doubt
            result.errors.append(f"Invoke of {target.function_name}: no answer that can be trusted")
            result.in_doubt += [sequence for sequence, _ in claims]
            return result
        if not _record(answer, claims, ledger, result):  # the handler stops at its first failure: the rest waits
            return result
    return result


def _record(answer: Answer, claims: list[tuple[str, Entry]], ledger: Ledger, result: Delivery) -> bool:
    """The function's answer into the ledger and the result; False when it failed a record."""
    result.skipped += answer.skipped
    for sequence, claim in claims:
        if sequence in answer.failed:
            ledger.release(claim)
            result.failed[sequence] = answer.reason if sequence == answer.first_failed else NOT_ATTEMPTED
        elif ledger.confirm(claim, answer.request) is None:
            result.in_doubt.append(sequence)  # delivered, but its entry changed under us: settle it
        else:
            result.done += 1
    return not answer.failed


def _claim_all(
    ledger: Ledger, target: Target, shard: str, chunk: list[dict[str, Any]], result: Delivery
) -> list[tuple[str, Entry]]:
    """Claims on every record of the chunk, in order, up to the first one another run holds."""
    claims: list[tuple[str, Entry]] = []
    for record in chunk:
        claim = ledger.claim(target.stream_arn, shard, sequence_of(record))
        if claim is None:
            result.in_doubt.append(sequence_of(record))
            break
        claims.append((sequence_of(record), claim))
    return claims


@dataclass
class Answer:
    request: str
    failed: set[str]  # the sequence numbers the function reported failed
    first_failed: str  # the first of them in the event's order
    reason: str  # why, from the log tail's "record failed" line
    skipped: int  # DuplicatesSkipped, from the log tail's metrics line


def _invoke(lam: Any, target: Target, records: list[dict[str, Any]]) -> Answer | str | None:
    """The function's answer; a sentence when it was not invoked or failed as a whole; None when it
    may have run but its answer cannot be read."""
    payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
    try:
        response = lam.invoke(
            FunctionName=target.function_arn, InvocationType="RequestResponse", LogType="Tail", Payload=payload
        )
    except (ClientError, BotoCoreError) as exc:
        return None if uncertain(exc) else f"Invoke of {target.function_name}: {describe(exc)}"
    request = str(response.get("ResponseMetadata", {}).get("RequestId", ""))[:80]
    tail = log_tail(response.get("LogResult"))
    if response.get("FunctionError"):
        kind = shown(response["FunctionError"], 40)
        return f"Invoke of {target.function_name}: the function failed as a whole ({kind}); nothing of it counts"
    try:
        body = json.loads(response["Payload"].read(PAYLOAD_BYTES + 1) or b"{}")
    except (ValueError, RecursionError, KeyError):
        return None
    failures = body.get("batchItemFailures", []) if isinstance(body, dict) else None
    if not isinstance(failures, list) or not all(isinstance(f, dict) for f in failures):
        return None
    failed = {str(f.get("itemIdentifier")) for f in failures}
    order = [sequence_of(r) for r in records]
    first = next((s for s in order if s in failed), "")
    if failed and not first:  # it failed records it was not given: its answer is not about this event
        return None
    reason = failure_reason(tail, first) if first else ""
    return Answer(request, failed, first, reason, duplicates_skipped(tail))


def log_tail(value: Any) -> list[str]:
    """The invocation's last 4 KB of log (LogType=Tail), as lines: untrusted text."""
    if not isinstance(value, str) or len(value) > TAIL_BYTES * 2:
        return []
    try:
        text = base64.b64decode(value, validate=True)[: TAIL_BYTES * 2].decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return []
    return text.splitlines()


def _json_lines(tail: list[str]) -> list[dict[str, Any]]:
    found = []
    for line in tail:
        start = line.find("{")
        if start < 0:
            continue
        try:
            value = json.loads(line[start:])
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def failure_reason(tail: list[str], sequence: str) -> str:
    """The reason of the handler's ``record failed`` line for ``sequence`` (payload-free by the
    handler's contract, and still escaped and bounded here: it is text the function wrote)."""
    for line in _json_lines(tail):
        if line.get("message") == "record failed" and line.get("sequence_number") == sequence:
            reason = line.get("reason")
            if isinstance(reason, str) and reason:
                return shown(reason, REASON_LIMIT)
    return "the function reported it failed (no reason in the invocation's log tail)"


def duplicates_skipped(tail: list[str]) -> int:
    """The DuplicatesSkipped metric of the invocation's EMF line (0 when the tail has none)."""
    for line in _json_lines(tail):
        values = line.get("DuplicatesSkipped") if "_aws" in line else None
        values = values if isinstance(values, list) else [values]
        if all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 10**7 for v in values):
            return int(sum(values))
    return 0
