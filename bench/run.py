"""`make bench`: every figure is a ratio or a count against a baseline measured in this same run.

P1  handler throughput on a 10,000-record Kinesis batch (no sink) / bare base64 + json.loads loop.
P2  sink write requests for 5,000 records from 1,000 racers, against one write per record.
P3  CloudWatch API calls per batch.
P4  cold import of stream_pipeline.handler in a fresh interpreter / `import boto3` alone.
    Also prints the size of the Lambda package (modules/consumer/package/lambda.zip).
P5  end to end on LocalStack through the warm local executor: RACERS x 1 msg/s for DURATION s into
    examples/kinesis-alleycat (1,000 x 60 by default): records in against sink + on-failure queue,
    the consumer's lag (ProcessingLatency p50/p99 from the EMF lines), and the drain time after the
    last put. Target: p99 <= 5 s and nothing lost. Skipped with P5=0.
    Two emulator settings, for P5 only: the stream opens with P5_SHARDS shards (64; the emulator's
    puts slow down with the records per shard, measured by the "P5 ingest" lines at 2 shards and at
    P5_SHARDS), and the event source mapping polls every 0.02 s instead of every 1 s. The profile
    that follows the race (consumer busy time, the sink's write capacity, CPU by process) names the
    next limit.
    `BENCH_ONLY=P5 make bench` runs the race twice, on a LocalStack of its own each: LocalStack's poller
    (one shard at a time), then the executor plugin's shard pollers (STREAM_PIPELINE_SHARD_POLLERS,
    P5_SHARD_POLLERS threads, 8 by default; tools/localstack-executor/.../shard_pollers.py).
P5a the same race with the producers aggregating (`stream-pipeline load --aggregate`: aws-kinesis-agg's
    aggregator, the KPL's format), into the planner's sizing for it (`plan --producers-can-aggregate`:
    1 shard, parallelization factor 1, batches of 100 aggregates): user records in against sink +
    on-failure queue (a failed aggregate counted as its user records), the lag and the profile as
    for P5. Skipped with P5=0 or P5A=0; `BENCH_ONLY=P5a make bench` runs it alone.
P6  wall time of the mocked `terraform test` suite, per run block.
P7  peak memory (resident high-water mark, VmHWM) of the local executor's worker process running the
    zip on a maximum-size Kinesis batch (10,000 records of ~600 bytes: the 6 MB Lambda delivers at
    most), against the same worker after a one-record batch. Target: <= 100 MB, so the 128 MB
    default holds with room.

P7a the same worker on the same 10,000 user records as KPL aggregates (aws-kinesis-agg's aggregator,
    the KPL's 51,200-byte default aggregate size): a smaller event (one envelope and one base64 per
    aggregate), every user record deaggregated in memory. Target: <= 100 MB as P7.
P7b the worst KPL aggregates that fit Lambda's 6 MB payload, in the same worker as a 128 MB function
    with the archive processor: four 1 MB records of 166,662 six-byte user records each (the KPL bomb:
    poison, counted before any user record is built), then four aggregates of exactly the cap for 128
    MB (stream_pipeline.limits.max_user_records_per_aggregate), applied. Peak against 128 MB and the
    one-record baseline; `BENCH_ONLY=P7b make bench` runs it alone.
P8  our handler against Powertools' BatchProcessor (process_partial_response,
    EventType.KinesisDataStreams) on the same 10,000-record batch, both doing the same per-record work
    (our strict decode and the alleycat parse) into the same in-memory DynamoDB stub: Powertools'
    record handler writes each record's standing (it sees one record at a time), ours one write per
    racer per batch. Records/s ratio, target >= 1.0.
P9  deaggregation, user records/s: our decoder (records.from_raw, which builds the user records)
    against aws-kinesis-agg's deaggregate_records on the same aggregates of the race's 10,000 user
    records; target >= 1.0. With the zip size and P4 above, the measurements behind the choice of
    our own decoder (stream_pipeline.kpl).

Timings take the median of interleaved repetitions, so that a noisy neighbour hits both sides.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools" / "localstack-executor" / "src"))

from support import (  # noqa: E402 - after the path is set
    FakeContext,
    aggregate,
    api_calls,
    create_sink_table,
    kinesis_record,
    race_batch,
    telemetry,
)

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "LOG_LEVEL": "ERROR",
    }
)
os.environ.pop("SINK_TABLE_NAME", None)


def p1_throughput(repeats: int = 5) -> tuple[float, float, float]:
    from stream_pipeline import handler

    batch = race_batch(racers=1000, seconds=10)
    event = {"Records": batch}

    def bare() -> None:
        for record in batch:
            json.loads(base64.b64decode(record["kinesis"]["data"]))

    def real() -> None:
        with redirect_stdout(io.StringIO()):
            response = handler.lambda_handler(event, FakeContext())
        assert response == {"batchItemFailures": []}

    bare_times, real_times = [], []
    for _ in range(repeats):
        for fn, times in ((bare, bare_times), (real, real_times)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    bare_rate = len(batch) / statistics.median(bare_times)
    real_rate = len(batch) / statistics.median(real_times)
    return real_rate, bare_rate, real_rate / bare_rate


def p2_p3_writes() -> tuple[int, int, int]:
    import boto3
    from moto import mock_aws

    from stream_pipeline.config import load_settings
    from stream_pipeline.pipeline import Pipeline

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_sink_table(client, "bench-sink")
        settings = load_settings({"SINK_TABLE_NAME": "bench-sink"})
        pipeline = Pipeline(settings, _quiet_logger(), client_factory=lambda: client)
        batch = race_batch(racers=1000, seconds=5)
        with api_calls() as log:
            outcome = pipeline.run(batch, lambda: 900_000)
        assert outcome.failed == 0
        writes = log.count("dynamodb", "PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems")
        return len(batch), writes, log.count("cloudwatch")


def _quiet_logger() -> Any:
    import logging

    logger = logging.getLogger("bench")
    logger.setLevel(logging.ERROR)
    return logger


def _import_seconds(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=os.environ)
    return float(out.stdout.strip())


def p4_import(repeats: int = 9) -> tuple[float, float, float]:
    handler_times, boto_times = [], []
    for _ in range(repeats):
        handler_times.append(_import_seconds("stream_pipeline.handler"))
        boto_times.append(_import_seconds("boto3"))
    handler, boto = statistics.median(handler_times), statistics.median(boto_times)
    return handler, boto, handler / boto


# The emulator settings (the poll interval, the shards) are declared once, in stream_pipeline_local.common:
# `make up` applies the same to the `localstack` workspace.


def cpu_seconds_by_part() -> dict[str, float]:
    """CPU time (user + system) so far of each part of the local pipeline, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parts = (
        ("java", "DynamoDB Local (java)"),
        ("kinesis", "Kinesis emulator (node)"),
        ("localstack.runtime.main", "LocalStack gateway (python)"),
        ("worker.py", "Lambda worker (python)"),
    )
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(entry.name) == os.getpid():
            part = "producer (this bench)"
        else:
            part = next((name for marker, name in parts if marker in command), "")
        if part:
            totals[part] = totals.get(part, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return totals


def p5_sink_capacity(seconds: float = 8.0, threads: int = 8) -> float:
    """Conditional PutItem calls per second that LocalStack's DynamoDB takes from `threads` threads
    (the sink's write: one per racer per batch, only if the item is new or unchanged)."""
    from concurrent.futures import ThreadPoolExecutor

    from stream_pipeline_local import localstack

    table = f"bench-sink-capacity-{int(time.time())}"
    dynamodb = localstack.client("dynamodb")
    create_sink_table(dynamodb, table)
    clients = [localstack.client("dynamodb") for _ in range(threads)]
    deadline = time.monotonic() + seconds

    def writer(client: Any) -> int:
        written = 0
        while time.monotonic() < deadline:
            item = {"pk": {"S": "RACE#1"}, "sk": {"S": f"RACER#{id(client)}-{written}"}, "version": {"S": "1"}}
            client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            written += 1
        return written

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(writer, clients))
    rate = total / (time.monotonic() - started)
    dynamodb.delete_table(TableName=table)
    return rate


def p5_end_to_end(
    racers: int, seconds: int, shards: int, sizing: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, float], float, float]:
    """The race on the example with `shards` shards (an emulator setting), or aggregated into the
    planner's `sizing` for it; returns the race report, the CPU seconds each part spent during it,
    the race's wall time and the sink's capacity."""
    from stream_pipeline_local import localstack, measure
    from stream_pipeline_local.common import POLL_INTERVAL_S, POLL_INTERVAL_VARIABLE

    if localstack.pid() is not None and localstack.healthy():
        print("    note: LocalStack was already running; P5 uses its poll interval, not the bench's", file=sys.stderr)
    os.environ.setdefault(POLL_INTERVAL_VARIABLE, POLL_INTERVAL_S)
    variables = ("-var", "name=bench-alleycat")
    with localstack.running(), localstack.emulator_shards("kinesis-alleycat", shards, sizing):
        capacity = p5_sink_capacity()
        outputs = localstack.apply("kinesis-alleycat", *variables, workspace="bench")
        try:
            before, started = cpu_seconds_by_part(), time.monotonic()
            report = measure.drive(
                outputs,
                racers=racers,
                seconds=seconds,
                race_id=int(time.time()) % 100_000,
                client=localstack.client,
                drain_timeout_s=900 if sizing else 300,
                out=sys.stderr,
                aggregate=sizing is not None,
            )
            wall = time.monotonic() - started
            cpu = {part: spent - before.get(part, 0.0) for part, spent in cpu_seconds_by_part().items()}
        finally:
            localstack.destroy("kinesis-alleycat", *variables, workspace="bench")
    return report.as_dict(), cpu, wall, capacity


def p5_emulator_ingest(shards: int, batches: int = 60) -> list[tuple[int, float]]:
    """Where P5's time goes: PutRecords(500) latency on LocalStack's Kinesis as the stream grows,
    with no consumer attached. Returns (records already in the stream, seconds) samples."""
    from stream_pipeline_local import localstack

    samples = []
    with localstack.running():
        kinesis = localstack.client("kinesis")
        stream = f"bench-ingest-{int(time.time())}"
        kinesis.create_stream(StreamName=stream, ShardCount=shards)
        while (
            kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE"
        ):
            time.sleep(0.2)
        data = json.dumps(telemetry(1, 1)).encode()
        for batch in range(batches):
            records = [{"Data": data, "PartitionKey": str(i)} for i in range(500)]
            started = time.perf_counter()
            kinesis.put_records(StreamName=stream, Records=records)
            samples.append((batch * 500, time.perf_counter() - started))
        kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)
    return samples


def p6_terraform_test() -> tuple[float, int]:
    terraform = os.environ.get("TF", "terraform")
    env = {k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE" or Path(v).exists()}
    started = time.perf_counter()
    result = subprocess.run(
        [terraform, "test", "-test-directory=tests/terraform", "-no-color"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    runs = sum(1 for line in result.stdout.splitlines() if line.lstrip().startswith("run ") and line.endswith("pass"))
    return elapsed, runs


def _high_water_mark_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc: P7 needs Linux")


def _aggregated_records(records: list[dict[str, Any]], max_bytes: int = 51_200) -> list[dict[str, Any]]:
    """``records``' payloads as KPL aggregates (aws-kinesis-agg's aggregator), in order."""
    users = [(r["kinesis"]["partitionKey"], base64.b64decode(r["kinesis"]["data"])) for r in records]
    return [
        kinesis_record(data=base64.b64encode(blob).decode(), partition_key=key)
        for key, blob in aggregate(users, max_bytes=max_bytes)
    ]


def _timed(functions: list[Any], repeats: int) -> list[float]:
    """Median seconds of each function, the functions interleaved in every repetition."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for fn, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


class StubDynamoDB:
    """An in-memory DynamoDB client for P8: what both sides call, so that neither pays for I/O."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Any] = {}
        self.puts = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        ((table, request),) = RequestItems.items()
        found = [self.items[k] for key in request["Keys"] if (k := (key["pk"]["S"], key["sk"]["S"])) in self.items]
        return {"Responses": {table: found}}

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self.puts += 1
        item = kwargs["Item"]
        self.items[(item["pk"]["S"], item["sk"]["S"])] = item
        return {}


def p8_against_powertools(repeats: int = 5) -> tuple[float, float, float, int, int]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from stream_pipeline.config import load_settings
    from stream_pipeline.pipeline import Pipeline
    from stream_pipeline.processors.alleycat import AlleycatProcessor, Standing
    from stream_pipeline.records import from_raw

    batch = race_batch(racers=1000, seconds=10)
    event = {"Records": batch}
    ours_stub, theirs_stub = StubDynamoDB(), StubDynamoDB()
    pipeline = Pipeline(
        load_settings({"SINK_TABLE_NAME": "bench-sink"}), _quiet_logger(), client_factory=lambda: ours_stub
    )
    parser = AlleycatProcessor(max_record_bytes=65_536)
    powertools = BatchProcessor(event_type=EventType.KinesisDataStreams)

    def record_handler(record: Any) -> None:
        # The same per-record work: our strict decode and parse, then the racer's standing written.
        stream_record = from_raw(0, record.raw_event)
        message = parser.parse(stream_record)
        standing = Standing.empty(message)
        standing.fold(stream_record, message)
        theirs_stub.put_item(TableName="bench-sink", Item=standing.to_item())

    def ours() -> None:
        ours_stub.items.clear()
        assert pipeline.run(batch, lambda: 900_000).failed == 0

    def theirs() -> None:
        theirs_stub.items.clear()
        response = process_partial_response(event=event, record_handler=record_handler, processor=powertools)
        assert response == {"batchItemFailures": []}

    ours_s, theirs_s = _timed([ours, theirs], repeats)
    ours_puts, theirs_puts = ours_stub.puts // repeats, theirs_stub.puts // repeats
    return len(batch) / ours_s, len(batch) / theirs_s, theirs_s / ours_s, ours_puts, theirs_puts


def p9_deaggregation(repeats: int = 9) -> tuple[float, float, float, float, int, int]:
    """User records/s from the same Lambda records of KPL aggregates: our decoder (base64, then
    stream_pipeline.kpl) against aws-kinesis-agg's deaggregate_records (base64 and protobuf's upb
    parser, then a dict per user record with its data base64 again); and, for the record, our whole
    from_raw, which also builds a StreamRecord per user record."""
    from aws_kinesis_agg.deaggregator import deaggregate_records

    from stream_pipeline import kpl
    from stream_pipeline.records import from_raw

    aggregates = _aggregated_records(race_batch(racers=1000, seconds=10))
    datas = [record["kinesis"]["data"] for record in aggregates]
    expected = sum(len(kpl.deaggregate(binascii.a2b_base64(data, strict_mode=True))) for data in datas)

    def ours() -> None:
        count = sum(len(kpl.deaggregate(binascii.a2b_base64(data, strict_mode=True))) for data in datas)
        assert count == expected

    def theirs() -> None:
        assert len(deaggregate_records(aggregates)) == expected

    def records() -> None:
        assert sum(len(from_raw(i, r).user_records or ()) for i, r in enumerate(aggregates)) == expected

    ours_s, theirs_s, records_s = _timed([ours, theirs, records], repeats)
    return expected / ours_s, expected / theirs_s, theirs_s / ours_s, expected / records_s, len(aggregates), expected


def p7_memory(zip_path: Path, aggregated: bool = False) -> tuple[float, float, int]:
    import tempfile
    import zipfile

    from stream_pipeline_executor.process import WorkerProcess
    from support import lambda_runtime_dir

    arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    with tempfile.TemporaryDirectory() as scratch:
        task = Path(scratch) / "task"
        zipfile.ZipFile(zip_path).extractall(task)
        env = {
            "PATH": os.environ["PATH"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "LOG_LEVEL": "ERROR",
            "POWERTOOLS_SERVICE_NAME": "bench",
        }
        worker = WorkerProcess(
            python=sys.executable,
            task_dir=task,
            runtime_dir=lambda_runtime_dir(Path(scratch) / "runtime"),
            handler="stream_pipeline.handler.lambda_handler",
            env=env,
            timeout_s=120,
            memory_mb=128,
        )
        worker.start()
        try:
            one = worker.invoke("small", arn, json.dumps({"Records": [kinesis_record(telemetry(1, 1))]}))
            assert one.ok, one.logs[-500:]
            assert worker._process is not None
            baseline = _high_water_mark_mb(worker._process.pid)
            padding = "x" * 400  # ~600-byte records: telemetry with a long firmware string
            batch = [kinesis_record({**telemetry(n % 1000, n // 1000 + 1), "firmware": padding}) for n in range(10_000)]
            if aggregated:  # the same user records, as KPL aggregates: an event of about the same size
                batch = _aggregated_records(batch)
            payload = json.dumps({"Records": batch})
            big = worker.invoke("large", arn, payload)
            assert big.ok, big.logs[-500:]
            assert '"batchItemFailures": []' in big.payload.decode(), big.payload[:300]
            return _high_water_mark_mb(worker._process.pid), baseline, len(payload)
        finally:
            worker.stop()


def p7b_kpl_bomb(zip_path: Path) -> list[tuple[str, float, float, float, int, int]]:
    """P7b: the worst KPL aggregates Lambda's 6 MB payload can carry, in the local executor's worker
    running the zip as a 128 MB function (AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128) with the archive
    processor, the costliest per user record. First four 1 MB Kinesis records of 166,662 six-byte
    user records each (the KPL bomb: each is over the cap, a poison record, counted before any user
    record is built), then four aggregates of exactly the cap (the largest that are applied). Returns
    per event (label, peak VmHWM MB, one-record baseline MB, seconds, event bytes, batchItemFailures)."""
    import tempfile
    import zipfile

    from memory_probe import kpl_aggregate
    from stream_pipeline.limits import max_user_records_per_aggregate
    from stream_pipeline_executor.process import WorkerProcess
    from support import lambda_runtime_dir

    arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        task = Path(scratch) / "task"
        zipfile.ZipFile(zip_path).extractall(task)
        env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
               "AWS_SECRET_ACCESS_KEY": "x", "LOG_LEVEL": "ERROR", "POWERTOOLS_SERVICE_NAME": "bench",
               "RECORD_PROCESSOR": "archive", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}  # fmt: skip
        runtime = lambda_runtime_dir(Path(scratch) / "runtime")
        worker = WorkerProcess(python=sys.executable, task_dir=task, runtime_dir=runtime, env=env, timeout_s=300,
                               handler="stream_pipeline.handler.lambda_handler", memory_mb=128)  # fmt: skip
        worker.start()
        try:
            one = worker.invoke("small", arn, json.dumps({"Records": [kinesis_record(telemetry(1, 1))]}))
            assert one.ok, one.logs[-500:]
            assert worker._process is not None
            baseline = _high_water_mark_mb(worker._process.pid)
            cap = max_user_records_per_aggregate(128)
            # the bomb first: VmHWM only grows, so the second event's peak is its own or higher
            for label, user_records in (("P7b KPL bomb", 166_662), ("P7b at the cap", cap)):
                blob = base64.b64encode(kpl_aggregate([b""] * user_records)).decode()
                payload = json.dumps({"Records": [kinesis_record(data=blob, partition_key="k") for _ in range(4)]})
                started = time.perf_counter()
                answer = worker.invoke(label, arn, payload)
                seconds = time.perf_counter() - started
                assert answer.ok, answer.logs[-500:]
                failed = len(json.loads(answer.payload)["batchItemFailures"])
                peak = _high_water_mark_mb(worker._process.pid)
                results.append((label, peak, baseline, seconds, len(payload), failed))
        finally:
            worker.stop()
    return results


def report_p7b(zip_path: Path) -> None:
    for label, peak, baseline, seconds, event_bytes, failed in p7b_kpl_bomb(zip_path):
        detail = f"ratio {peak / baseline:.2f}, {peak / 128:.0%} of 128 MB (<= 100%)"
        report(label, f"{peak:,.1f} MB", f"one record {baseline:,.1f} MB", detail)
        print(f"    {event_bytes / 1e6:.1f} MB event of 4 aggregates: {failed} reported failed in {seconds:.2f} s")


def p5a_race(racers: int, seconds: int) -> None:
    """P5 with the producers aggregating, into the planner's sizing for aggregating producers."""
    from stream_pipeline_ops import planner

    workload = planner.Workload(avg_rps=racers, peak_rps=racers, record_bytes=200, keys=racers,
                                producers_can_aggregate=True)  # fmt: skip
    sizing = planner.plan(workload).tfvars()
    planned = int(sizing["kinesis"]["shard_count"])
    report_race("P5a", *p5_end_to_end(racers, seconds, planned, sizing), racers=racers, seconds=seconds,
                setting=f"aggregated, {planned} shard(s) as planned")  # fmt: skip


def p5_pollers(racers: int, seconds: int) -> None:
    """P5 twice in one run, each on a LocalStack of its own: LocalStack's poller (one shard at a time),
    then the executor plugin's shard pollers (STREAM_PIPELINE_SHARD_POLLERS threads, P5_SHARD_POLLERS,
    8 by default), with the same emulator shards and poll interval."""
    from stream_pipeline_local import localstack
    from stream_pipeline_local.common import EMULATOR_SHARDS

    if localstack.pid() is not None and localstack.healthy():
        raise SystemExit("BENCH_ONLY=P5 starts LocalStack twice, with and without shard pollers: `make down` first.")
    shards = int(os.environ.get("P5_SHARDS", str(EMULATOR_SHARDS)))
    threads = os.environ.get("P5_SHARD_POLLERS", "8")
    for label, setting in (("P5 before", "0"), ("P5 after", threads)):
        os.environ["STREAM_PIPELINE_SHARD_POLLERS"] = setting
        pollers = "LocalStack's poller" if setting == "0" else f"{setting} shard pollers"
        report_race(label, *p5_end_to_end(racers, seconds, shards), racers=racers, seconds=seconds,
                    setting=f"{shards} emulator shards, {pollers}")  # fmt: skip


def report_race(
    label: str,
    p5: dict[str, Any],
    cpu: dict[str, float],
    wall: float,
    capacity: float,
    *,
    racers: int,
    seconds: int,
    setting: str,
) -> None:
    """The race's lines: records (user records), rate, lag, drain, the consumer's busy time, the sink's
    capacity and the CPU of each local process."""
    report(
        f"{label} records",
        f"{p5['records_in']:,} in",
        f"sink {p5['in_sink']:,} + queue {p5['in_failure_queue']:,}",
        "balanced" if p5["balanced"] else "NOT BALANCED",
    )
    if p5["kinesis_records"] != p5["records_in"]:
        report(
            f"{label} Kinesis records",
            f"{p5['kinesis_records']:,}",
            f"carrying {p5['records_in']:,} user records",
            f"{p5['records_in'] / max(p5['kinesis_records'], 1):,.0f} per Kinesis record",
        )
    report(
        f"{label} rate",
        f"{p5['achieved_rate']:,.0f} rec/s",
        f"target {racers:,} rec/s for {seconds} s",
        f"{setting}; throttled {p5['throttled']:,}",
    )
    lag = f"p50 {p5['latency_p50_ms'] / 1000:.2f} s, max {p5['latency_max_ms'] / 1000:.2f} s"
    report(f"{label} consumer lag", f"p99 {p5['latency_p99_ms'] / 1000:.2f} s", lag, "(target p99 <= 5 s)")
    report(f"{label} drain", f"{p5['drain_after_last_put_s']:.1f} s", "after the last put", "")
    busy = p5["invocation_seconds"]
    invocations = p5["invocations"]
    report(
        f"{label} consumer busy",
        f"{busy:.1f} s",
        f"of {wall:.1f} s, {invocations:,} invocations",
        f"{p5['records_in'] / max(invocations, 1):,.0f} records each",
    )
    report(
        f"{label} sink capacity",
        f"{capacity:,.0f} writes/s",
        f"{racers:,} racers: one write each per batch",
        f"cycle >= {racers / capacity:.1f} s",
    )
    print(f"    CPU during the race ({wall:.0f} s wall, {os.cpu_count()} cores):")
    for part, spent in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"      {part:<30}{spent:7.1f} s   {spent / wall:5.0%} of one core")


def report(label: str, value: str, baseline: str, ratio: str) -> None:
    print(f"{label:<24}{value:>18}   vs {baseline:<34} {ratio}")


def main() -> int:
    zip_path = ROOT / "modules" / "consumer" / "package" / "lambda.zip"
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if os.environ.get("BENCH_ONLY") == "P7b":  # the KPL bomb alone
        report_p7b(zip_path)
        return 0
    if os.environ.get("BENCH_ONLY") == "P5":  # the race alone, LocalStack's poller against our shard pollers
        p5_pollers(int(os.environ.get("RACERS", "1000")), int(os.environ.get("DURATION", "60")))
        return 0
    if os.environ.get("BENCH_ONLY") == "P5a":  # the aggregated race alone (it takes minutes)
        p5a_race(int(os.environ.get("RACERS", "1000")), int(os.environ.get("DURATION", "60")))
        return 0
    real, bare, ratio = p1_throughput()
    report(
        "P1 handler throughput",
        f"{real:,.0f} rec/s",
        f"bare decode loop {bare:,.0f} rec/s",
        f"ratio {ratio:.2f} (>= 0.5)",
    )
    records, writes, cloudwatch = p2_p3_writes()
    report("P2 sink writes", f"{writes:,}", f"write-per-record {records:,}", f"ratio {writes / records:.2f} (<= 0.2)")
    report("P3 CloudWatch calls", f"{cloudwatch}", f"per batch of {records:,} records", "(target 0)")
    handler, boto, ratio = p4_import()
    report(
        "P4 cold import",
        f"{handler * 1000:.1f} ms",
        f"import boto3 {boto * 1000:.1f} ms",
        f"ratio {ratio:.2f} (<= 1.5)",
    )
    if zip_path.exists():
        report("lambda zip", f"{zip_path.stat().st_size:,} bytes", "", "")
    peak, baseline, event_bytes = p7_memory(zip_path)
    report(
        "P7 peak memory",
        f"{peak:,.1f} MB",
        f"one record {baseline:,.1f} MB",
        f"{event_bytes / 1e6:.1f} MB event; ratio {peak / baseline:.2f} (<= 100 MB)",
    )
    peak, baseline, event_bytes = p7_memory(zip_path, aggregated=True)
    report(
        "P7a peak, aggregated",
        f"{peak:,.1f} MB",
        f"one record {baseline:,.1f} MB",
        f"{event_bytes / 1e6:.1f} MB event of KPL aggregates (<= 100 MB)",
    )
    report_p7b(zip_path)
    ours, theirs, ratio, ours_puts, theirs_puts = p8_against_powertools()
    report(
        "P8 vs Powertools batch",
        f"{ours:,.0f} rec/s",
        f"BatchProcessor {theirs:,.0f} rec/s",
        f"ratio {ratio:.2f} (>= 1.0); stub writes {ours_puts:,} vs {theirs_puts:,}",
    )
    ours, theirs, ratio, records, kinesis_records, users = p9_deaggregation()
    report(
        "P9 deaggregation",
        f"{ours:,.0f} user rec/s",
        f"aws-kinesis-agg {theirs:,.0f} user rec/s",
        f"ratio {ratio:.2f} (>= 1.0); {users:,} user records in {kinesis_records} aggregates",
    )
    report("P9 with StreamRecords", f"{records:,.0f} user rec/s", "records.from_raw: the handler's whole step", "")
    elapsed, runs = p6_terraform_test()
    report("P6 terraform test", f"{elapsed:.1f} s", f"{runs} run blocks", f"{elapsed / max(runs, 1):.2f} s per run")
    if os.environ.get("P5", "1") != "0":
        racers, seconds = int(os.environ.get("RACERS", "1000")), int(os.environ.get("DURATION", "60"))
        from stream_pipeline_local.common import EMULATOR_SHARDS

        shards = int(os.environ.get("P5_SHARDS", str(EMULATOR_SHARDS)))
        for count in (2, shards):
            ingest = p5_emulator_ingest(count)
            first, last = ingest[0], ingest[-1]
            baseline = f"PutRecords(500) at {last[0]:,} vs {first[1] * 1000:,.0f} ms at 0"
            report(
                f"P5 ingest, {count} shards", f"{last[1] * 1000:,.0f} ms", baseline, f"ratio {last[1] / first[1]:.1f}"
            )
            for records, seconds_taken in ingest[::10]:
                print(f"    PutRecords(500) with {records:>6,} records in the stream: {seconds_taken * 1000:7.1f} ms")
        report_race("P5", *p5_end_to_end(racers, seconds, shards), racers=racers, seconds=seconds,
                    setting=f"{shards} emulator shards")  # fmt: skip
        if os.environ.get("P5A", "1") != "0":
            p5a_race(racers, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
