"""Would a record pass now? The deployed processor's own validation, built from the function's
environment (``RECORD_PROCESSOR``, ``MAX_RECORD_BYTES``), answers with the reason the handler logs.

The verdict is the Lambda package's (``stream_pipeline.processors.check``), the handler's own parse
path: a KPL aggregate is deaggregated and each user record inside it checked, as the handler does;
one failing user record fails the aggregate, whose reason names it. The aggregate itself goes back
to the stream whole (its original bytes and partition key), never as its user records.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from stream_pipeline import processors
from stream_pipeline.config import load_settings
from stream_pipeline.records import PoisonRecord
from stream_pipeline_ops.redrive.target import RedriveError, Target

if TYPE_CHECKING:
    from collections.abc import Callable


def checker(target: Target, check: bool) -> Callable[[dict[str, Any]], str | None]:
    """None when a record would pass, else the reason (payload-free, as the handler logs it)."""
    if not check:
        return lambda _record: None
    env = {k: v for k, v in target.environment.items() if k != "SINK_TABLE_NAME"}
    try:
        settings = load_settings(env)
        processor = processors.build(settings, target.source)
    except (ImportError, TypeError, ValueError) as exc:
        raise RedriveError(
            f"Cannot load the deployed processor here ({exc}); install it, or pass --no-check."
        ) from None

    def reason(record: dict[str, Any]) -> str | None:
        try:
            processors.check(processor, record)
        except PoisonRecord as exc:
            return str(exc)
        return None

    return reason


def digest_source(record: dict[str, Any]) -> bytes:
    """What a discard log's digest covers: a Kinesis record's data, a DynamoDB record's change."""
    data = record.get("kinesis", {}).get("data")
    if isinstance(data, str):
        try:
            return base64.b64decode(data)
        except (binascii.Error, ValueError):
            return data.encode()
    return json.dumps(record.get("dynamodb", {}), sort_keys=True, separators=(",", ":"), default=str).encode()
