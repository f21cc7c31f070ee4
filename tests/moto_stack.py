"""A stack of this module on moto, for the unit tier: the source (a Kinesis stream, or a DynamoDB
table with its stream), the function and its mapping, the failure path (queue or archive bucket),
the sink, the redrive ledger table and its KMS HMAC key, and the ``stream_pipeline`` outputs that
``terraform output -json`` would print for it. Build it inside ``mock_aws()`` (or against a moto
server, with ``endpoint``).

``pipeline_outputs`` alone builds outputs for tests that fake AWS some other way.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from support import create_sink_table

if TYPE_CHECKING:
    from pathlib import Path

ACCOUNT = "123456789012"  # moto's


def pipeline_outputs(
    name: str = "alleycat",
    *,
    region: str = "us-east-1",
    account: str = ACCOUNT,
    source_type: str = "kinesis",
    destination: str = "sqs",
    stream_arn: str | None = None,
    ledger_key_arn: str | None = None,
    failure_arn: str | None = None,
    module: str = "terraform-aws-stream-pipeline",
    mapping_uuid: str = "797c2cdb-c5d7-4bfb-9d42-974c228f4049",
) -> dict[str, Any]:
    """``terraform output -json`` of a stack of this module (only the outputs the tools read)."""
    if stream_arn is None:
        stream_arn = (
            f"arn:aws:kinesis:{region}:{account}:stream/{name}"
            if source_type == "kinesis"
            else f"arn:aws:dynamodb:{region}:{account}:table/{name}/stream/2026-11-23T00:00:00.000"
        )
    failure = failure_arn or (
        f"arn:aws:sqs:{region}:{account}:{name}-failures" if destination == "sqs" else f"arn:aws:s3:::{name}-failures"
    )
    value = {
        "module": module,
        "version": "0.3.0",
        "name": name,
        "source_type": source_type,
        "stream_arn": stream_arn,
        "stream_name": name,
        "source_table_arn": None if source_type == "kinesis" else f"arn:aws:dynamodb:{region}:{account}:table/{name}",
        "sns_topic_arn": f"arn:aws:sns:{region}:{account}:{name}-alarms",
        "dashboard_name": f"{name}-{region}",
        "redrive_ledger_table_arn": f"arn:aws:dynamodb:{region}:{account}:table/{name}-redrive-ledger",
        "redrive_ledger_key_arn": ledger_key_arn
        or f"arn:aws:kms:{region}:{account}:key/00000000-0000-0000-0000-000000000000",
        "consumers": {
            "default": {
                "function_name": name,
                "function_arn": f"arn:aws:lambda:{region}:{account}:function:{name}",
                "event_source_arn": stream_arn,
                "event_source_mapping_uuid": mapping_uuid,
                "on_failure_destination_arn": failure,
                "sink_table_arn": f"arn:aws:dynamodb:{region}:{account}:table/{name}-sink",
            }
        },
    }
    return {"stream_pipeline": {"sensitive": False, "type": ["object", {}], "value": value}}


@dataclass
class MotoStack:
    name: str
    region: str
    source_type: str
    destination: str
    stream_arn: str
    function_arn: str
    failure_arn: str
    queue_url: str | None
    bucket: str | None
    sink: str
    ledger: str
    key_arn: str
    endpoint: str | None = None
    mapping_uuid: str = ""  # the function's event source mapping, as the outputs name it

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def outputs(self) -> dict[str, Any]:
        return pipeline_outputs(
            self.name, region=self.region, source_type=self.source_type, destination=self.destination,
            stream_arn=self.stream_arn, ledger_key_arn=self.key_arn, failure_arn=self.failure_arn,
            mapping_uuid=self.mapping_uuid,
        )  # fmt: skip

    def write_outputs(self, path: Path) -> Path:
        path.write_text(json.dumps(self.outputs()))
        return path


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def detach_trigger(name: str, region: str, source_type: str) -> None:
    """moto runs the mapped function (in Docker) on every put, whatever the mapping's state; here the
    tests play the function themselves, so the source forgets the mapping (which the API still lists)."""
    if source_type == "kinesis":
        from moto.kinesis.models import kinesis_backends

        kinesis_backends[ACCOUNT][region].streams[name].lambda_event_source_mappings.clear()
    else:
        from moto.dynamodb.models import dynamodb_backends

        dynamodb_backends[ACCOUNT][region].tables[name].lambda_event_source_mappings.clear()


def build(
    name: str = "alleycat",
    *,
    region: str = "us-east-1",
    source_type: str = "kinesis",
    destination: str = "sqs",
    environment: dict[str, str] | None = None,
    endpoint: str | None = None,
) -> MotoStack:
    """Create the stack's resources; the function's environment is what the module sets, plus ``environment``."""

    def client(service: str) -> Any:
        return boto3.client(service, region_name=region, endpoint_url=endpoint)  # type: ignore[call-overload]

    sink, ledger = f"{name}-sink", f"{name}-redrive-ledger"
    dynamodb = client("dynamodb")
    create_sink_table(dynamodb, sink)
    create_sink_table(dynamodb, ledger)  # the ledger is shaped like the sink: pk/sk strings, on demand
    kms = client("kms")
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/{ledger}", TargetKeyId=key["KeyId"])
    if source_type == "kinesis":
        kinesis = client("kinesis")
        kinesis.create_stream(StreamName=name, ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    else:
        stream_arn = dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
    queue_url = bucket = None
    if destination == "sqs":
        queue_url = client("sqs").create_queue(QueueName=f"{name}-failures")["QueueUrl"]
        failure_arn = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}-failures"
    else:
        bucket = f"{name}-failures-{region}"
        s3 = client("s3")
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        failure_arn = f"arn:aws:s3:::{bucket}"
    role = client("iam").create_role(RoleName=f"{name}-{region}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    processor = "alleycat" if source_type == "kinesis" else "audit"
    variables = {
        "PIPELINE_NAME": name, "POWERTOOLS_SERVICE_NAME": name, "SINK_TABLE_NAME": sink,
        "RECORD_PROCESSOR": processor, **(environment or {}),
    }  # fmt: skip
    lam = client("lambda")
    function_arn = lam.create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="handler.handler", Code={"ZipFile": _zip()},
        Environment={"Variables": variables},
    )["FunctionArn"]  # fmt: skip
    mapping = lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
        DestinationConfig={"OnFailure": {"Destination": failure_arn}},
    )["UUID"]  # fmt: skip
    detach_trigger(name, region, source_type)
    return MotoStack(
        name=name, region=region, source_type=source_type, destination=destination, stream_arn=stream_arn,
        function_arn=function_arn, failure_arn=failure_arn, queue_url=queue_url, bucket=bucket, sink=sink,
        ledger=ledger, key_arn=key["Arn"], endpoint=endpoint, mapping_uuid=mapping,
    )  # fmt: skip
