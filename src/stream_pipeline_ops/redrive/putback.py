"""Putting records back, exactly once, into the stack's own stream or function only.

Each record is claimed in the ledger before its put and confirmed after it. A put that certainly did
not land (an error answer below HTTP 500: throttled, refused) drops the claim, so a later run puts
the record; a put whose outcome is unknown (a 5xx, a timeout, a lost connection) leaves the claim,
and the record is *in doubt* until an operator settles it. Either way the failure's remaining
records wait for the next run, so no record of a partition key goes back ahead of an earlier one.

Kinesis records go back into the stream with their original bytes and partition key (a KPL
aggregate as the aggregate). DynamoDB Streams cannot be written to, so their records go to the
function, as an event of at most :data:`INVOKE_BYTES`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from stream_pipeline_ops.redrive.reading import sequence_of
from stream_pipeline_ops.stack import kinesis_stream_name

if TYPE_CHECKING:
    from stream_pipeline_ops.redrive.ledger import Entry, Ledger
    from stream_pipeline_ops.redrive.target import Target

INVOKE_BYTES: Final = 5_000_000  # below Lambda's 6 MB synchronous payload, with room for the envelope
RESPONSE_BYTES: Final = 6 * 1024 * 1024


@dataclass
class PutResult:
    done: int = 0
    in_doubt: list[str] = field(default_factory=list)  # claimed, outcome unknown: settle them
    errors: list[str] = field(default_factory=list)  # why a put-back stopped, payload-free


def uncertain(exc: Exception) -> bool:
    """Might the request have landed? Only an error answer below 500 says certainly not."""
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)) >= 500
    return True


def describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response["Error"]
        return f"{error.get('Code', '?')}: {str(error.get('Message', ''))[:160]}"
    return f"{type(exc).__name__}: {str(exc)[:160]}"


def put_kinesis(kinesis: Any, target: Target, ledger: Ledger, shard: str, records: list[dict[str, Any]]) -> PutResult:
    result = PutResult()
    stream = kinesis_stream_name(target.stream_arn)
    for record in records:
        sequence = sequence_of(record)
        claim = ledger.claim(target.stream_arn, shard, sequence)
        if claim is None:  # another run claimed it since this one read the ledger
            result.in_doubt.append(sequence)
            break
        try:
            put = kinesis.put_record(
                StreamName=stream, PartitionKey=record["kinesis"]["partitionKey"],
                Data=base64.b64decode(record["kinesis"]["data"]),
            )  # fmt: skip
        except (ClientError, BotoCoreError) as exc:
            result.errors.append(f"PutRecord of {sequence}: {describe(exc)}")
            if uncertain(exc):
                result.in_doubt.append(sequence)
            else:
                ledger.release(claim)
            break
        if ledger.confirm(claim, put["SequenceNumber"], put.get("ShardId")) is None:
            result.in_doubt.append(sequence)  # put, but its entry changed under us: settle it
        else:
            result.done += 1
    return result


def chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive runs of records whose event stays under INVOKE_BYTES."""
    found: list[list[dict[str, Any]]] = [[]]
    size = 0
    for record in records:
        length = len(json.dumps(record)) + 2
        if found[-1] and size + length > INVOKE_BYTES:
            found.append([])
            size = 0
        found[-1].append(record)
        size += length
    return [chunk for chunk in found if chunk]


def invoke_function(lam: Any, target: Target, ledger: Ledger, shard: str, records: list[dict[str, Any]]) -> PutResult:
    """DynamoDB Streams records, through the function: the records it reports failed are released."""
    result = PutResult()
    for chunk in chunks(records):
        claims = _claim_all(ledger, target, shard, chunk, result)
        outcome = _invoke(lam, target, chunk) if len(claims) == len(chunk) else "a record was claimed by another run"
        if isinstance(outcome, str):  # not invoked, or the handler failed as a whole (the mapping would retry it)
            result.errors.append(outcome)
            for _sequence, claim in claims:
                ledger.release(claim)
            return result
        if outcome is None:  # it may have run: every claim is in doubt
            result.errors.append(f"Invoke of {target.function_name}: no answer that can be trusted")
            result.in_doubt += [sequence for sequence, _ in claims]
            return result
        failed, request = outcome
        for sequence, claim in claims:
            if sequence in failed:
                ledger.release(claim)
            elif ledger.confirm(claim, f"invoked:{request}") is None:
                result.in_doubt.append(sequence)
            else:
                result.done += 1
        if failed:  # the handler stops at its first failure; the rest waits for the next run
            return result
    return result


def _claim_all(
    ledger: Ledger, target: Target, shard: str, chunk: list[dict[str, Any]], result: PutResult
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


def _invoke(lam: Any, target: Target, records: list[dict[str, Any]]) -> tuple[set[str], str] | str | None:
    """(the sequence numbers the function reported failed, the request id); a sentence when it was not
    invoked or failed as a whole; None when it may have run but its answer cannot be read."""
    try:
        response = lam.invoke(FunctionName=target.function_arn, Payload=json.dumps({"Records": records}).encode())
    except (ClientError, BotoCoreError) as exc:
        return None if uncertain(exc) else f"Invoke of {target.function_name}: {describe(exc)}"
    request = str(response.get("ResponseMetadata", {}).get("RequestId", ""))
    if response.get("FunctionError"):
        return f"Invoke of {target.function_name}: the function failed ({str(response['FunctionError'])[:40]})"
    try:
        body = json.loads(response["Payload"].read(RESPONSE_BYTES) or b"{}")
    except (ValueError, RecursionError, KeyError):
        return None
    failures = body.get("batchItemFailures", []) if isinstance(body, dict) else None
    if not isinstance(failures, list) or not all(isinstance(f, dict) for f in failures):
        return None
    return {str(f.get("itemIdentifier")) for f in failures}, request
