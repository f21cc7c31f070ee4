"""Run the handler once, in a process of its own, on KPL aggregates built to measure memory; print
one JSON line. Used by tests/unit/test_bounds.py (and by hand: ``python tests/memory_probe.py
'{"processor": "archive", "user_records": 20000, "aggregates": 4}'``).

The aggregates hold ``user_records`` user records each, of ``data_bytes`` bytes of data (0: the
six-byte user records of the KPL bomb), built directly in the KPL format (magic, protobuf, MD5);
tests/unit/test_bounds.py checks the builder against aws-kinesis-agg's deaggregator.

Options (a JSON object as the one argument):

* ``processor``: ``RECORD_PROCESSOR`` (``archive``, ``alleycat``, ``alleycat-window``);
  ``data_bytes`` -1 gives each user record a race telemetry message (for the alleycat processors);
* ``memory_mb``: ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, from which the handler derives its cap;
* ``limit``: run under ``RLIMIT_AS``, set so that the process may grow by as much as a function of
  ``memory_mb`` may hold in all beyond what it holds now (its resident size after the imports and a
  first invocation); a ``MemoryError`` is reported, not raised. Without a sink (the sink's threads
  would each reserve address space they never use);
* ``sink``: a sink whose client takes every write and keeps nothing, so that the measure includes
  what applying costs (the items, the write requests) but not a store.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def kpl_aggregate(datas: list[bytes], key: bytes = b"k") -> bytes:
    """One aggregate in the KPL format: one partition key, every user record with key index 0."""
    records = []
    for data in datas:
        record = b"\x08\x00\x1a" + varint(len(data)) + data
        records.append(b"\x1a" + varint(len(record)) + record)
    body = b"\x0a" + varint(len(key)) + key + b"".join(records)
    return b"\xf3\x89\x9a\xc2" + body + hashlib.md5(body, usedforsecurity=False).digest()


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


class DiscardClient:
    """A DynamoDB client that takes every write and keeps nothing, and finds nothing."""

    def batch_write_item(self, **_: Any) -> dict[str, Any]:
        return {"UnprocessedItems": {}}

    def batch_get_item(self, **_: Any) -> dict[str, Any]:
        return {"Responses": {}}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}


def main(options: dict[str, Any]) -> dict[str, Any]:
    memory_mb = int(options.get("memory_mb", 128))
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "LOG_LEVEL": "WARNING",
            "POWERTOOLS_SERVICE_NAME": "memory-probe",
            "RECORD_PROCESSOR": options.get("processor", "archive"),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        }
    )
    if options.get("sink"):
        os.environ["SINK_TABLE_NAME"] = "probe-sink"
    from support import FakeContext, kinesis_record, telemetry

    logs = io.StringIO()
    with contextlib.redirect_stdout(logs):
        from stream_pipeline import handler

        if options.get("sink"):
            handler.pipeline._client_factory = DiscardClient  # type: ignore[assignment]
    windowed = options.get("processor") == "alleycat-window"

    def event(blobs: list[bytes]) -> dict[str, Any]:
        records = [kinesis_record(data=base64.b64encode(blob).decode(), partition_key="k") for blob in blobs]
        if not windowed:
            return {"Records": records}
        return {"Records": records, "window": {"start": "s", "end": "e"}, "state": {}, "shardId": "shardId-0"}

    size, count = int(options.get("data_bytes", 0)), int(options["user_records"])
    if size < 0:
        datas = [json.dumps(telemetry(n % 1000 + 1, n // 1000 + 1)).encode() for n in range(count)]
    else:
        datas = [b"x" * size] * count
    with contextlib.redirect_stdout(logs):
        handler.lambda_handler(event([kpl_aggregate(datas[:1])]), FakeContext())
    blob = kpl_aggregate(datas)
    del datas
    batch = event([blob] * int(options.get("aggregates", 1)))
    del blob
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) from here on: not the building's
    resident, address_space = status_mb("VmRSS"), status_mb("VmSize")
    if options.get("limit"):
        allowed = int((address_space + memory_mb - resident) * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (allowed, allowed))
    logs.seek(0)
    logs.truncate()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(logs):
            response = handler.lambda_handler(batch, FakeContext())
    except MemoryError:
        return {"crashed": "MemoryError", "seconds": round(time.perf_counter() - started, 2)}
    seconds = time.perf_counter() - started
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("message") == "record failed"]
    return {
        "failures": len(response["batchItemFailures"]),
        "reason": failed[0]["reason"] if failed else "",
        "seconds": round(seconds, 2),
        "resident_before_mb": round(resident, 1),
        "peak_mb": round(status_mb("VmHWM"), 1),
        "event_mb": round(len(json.dumps(batch)) / 1e6, 2),
        "log_bytes": len(logs.getvalue()),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(json.loads(sys.argv[1]))) + "\n")
