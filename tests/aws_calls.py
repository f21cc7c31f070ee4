"""Every AWS call a piece of code makes, as IAM actions on resources, recorded with botocore's own
event hooks (``provide-client-params``, which sees each call's parameters before they are sent), so
a test can compare what a command really does with the least-privilege policy the module publishes.

    with recording() as calls:
        cli.main(["redrive", "--outputs", path, "--apply"])
    assert calls.actions() <= allowed
    assert calls.not_allowed(policy, region, account) == []

Every client created while the context is open is hooked (boto3's and botocore's sessions alike);
clients created before it are not, so create them inside. Calls from threads named ``drill…`` are
left out: the integration tier's drills run beside the other tests (tests/drills.py).
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from unittest import mock

import botocore.session

if TYPE_CHECKING:
    from collections.abc import Iterator

# Operations whose IAM action is not <prefix>:<operation>.
ACTIONS: Final = {
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "CopyObject"): ("s3:GetObject", "s3:PutObject"),  # read the source, write the copy
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("lambda", "Invoke"): ("lambda:InvokeFunction",),
    ("lambda", "GetFunctionConfiguration"): ("lambda:GetFunctionConfiguration",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
}
BACKGROUND: Final = "drill"  # drills.THREADS: the prefix of the drills' thread names
NEEDS_NO_PERMISSION: Final = {"sts:GetCallerIdentity"}  # IAM cannot deny it
PREFIXES: Final = {"monitoring": "cloudwatch"}  # CloudWatch signs as "monitoring"; its IAM prefix is cloudwatch
IDENTIFIERS: Final = (
    "TableName", "StreamName", "StreamARN", "StreamArn", "QueueUrl", "QueueName", "Bucket", "Key",
    "FunctionName", "KeyId", "DashboardName", "TopicArn",
)  # fmt: skip


@dataclass(frozen=True)
class Call:
    service: str  # the botocore service name (dynamodbstreams, sts, ...)
    prefix: str  # its IAM prefix (dynamodb for dynamodbstreams)
    operation: str
    region: str
    resources: tuple[tuple[str, str], ...]  # (parameter, value) of the identifiers the call named

    @property
    def actions(self) -> tuple[str, ...]:
        return ACTIONS.get((self.prefix, self.operation), (f"{self.prefix}:{self.operation}",))

    def arns(self, account: str) -> list[tuple[str, str]]:
        """(action, resource ARN) pairs IAM authorizes this call on; "*" when it names no resource."""
        named = dict(self.resources)
        if self.prefix == "s3":
            bucket, key = named.get("Bucket", ""), named.get("Key")
            if self.operation == "CopyObject":
                return [("s3:GetObject", f"arn:aws:s3:::{named.get('CopySource', '')}"),
                        ("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")]  # fmt: skip
            return [(a, f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}") for a in self.actions]
        arn = self._arn(named, account)
        return [(action, arn) for action in self.actions]

    def _arn(self, named: dict[str, str], account: str) -> str:
        region, found = self.region, "*"
        if "StreamArn" in named or "StreamARN" in named:
            found = named.get("StreamArn") or named["StreamARN"]
        elif "TableName" in named:
            found = f"arn:aws:dynamodb:{region}:{account}:table/{named['TableName']}"
        elif "StreamName" in named:
            found = f"arn:aws:kinesis:{region}:{account}:stream/{named['StreamName']}"
        elif "QueueUrl" in named:
            owner, name = named["QueueUrl"].rstrip("/").split("/")[-2:]
            found = f"arn:aws:sqs:{region}:{owner}:{name}"
        elif "QueueName" in named:
            found = f"arn:aws:sqs:{region}:{account}:{named['QueueName']}"
        elif "FunctionName" in named:
            name = named["FunctionName"]
            found = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        elif "KeyId" in named:
            found = named["KeyId"]
        elif "TopicArn" in named:
            found = named["TopicArn"]
        elif self.prefix == "logs" and self.operation == "DescribeLogGroups":
            found = f"arn:aws:logs:{region}:{account}:log-group:*"  # IAM authorizes the listing on the account's groups
        return found


@dataclass
class Calls:
    calls: list[Call] = field(default_factory=list)

    def actions(self) -> set[str]:
        return {action for call in self.calls for action in call.actions}

    def count(self, action: str) -> int:
        return sum(action in call.actions for call in self.calls)

    def counts(self) -> Counter[str]:
        return Counter(action for call in self.calls for action in call.actions)

    def resources(self) -> dict[str, set[str]]:
        """Each IAM action, and the resource identifiers its calls named (table names, queue URLs, ...)."""
        found: dict[str, set[str]] = {}
        for call in self.calls:
            names = {f"{name}={value}" for name, value in call.resources} or {"(none)"}
            for action in call.actions:
                found.setdefault(action, set()).update(names)
        return found

    def not_allowed(self, policy: dict[str, Any], account: str) -> list[str]:
        """Each (action, resource) a call needed that ``policy`` does not allow (or denies). GetRecords
        names only an iterator: IAM authorizes it on the stream the iterator was got for."""
        missing: set[str] = set()
        streams: dict[str, str] = {}
        for call in self.calls:
            for action, arn in call.arns(account):
                if call.operation == "GetShardIterator":
                    streams[call.prefix] = arn
                resource = streams.get(call.prefix, arn) if call.operation == "GetRecords" else arn
                if action not in NEEDS_NO_PERMISSION and not allows(policy, action, resource):
                    missing.add(f"{action} on {resource}")
        return sorted(missing)

    def regions(self) -> set[str]:
        return {call.region for call in self.calls}

    def table(self) -> str:
        """One line per action: the count and the resources, for a report."""
        counts = self.counts()
        return "\n".join(
            f"{action} x{counts[action]}: {', '.join(sorted(resources))}"
            for action, resources in sorted(self.resources().items())
        )


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def allows(policy: dict[str, Any], action: str, arn: str) -> bool:
    """IAM's verdict, conditions left aside: some Allow statement matches and no Deny does (actions
    compare without case, resources with it; * and ? are IAM's wildcards, as fnmatch reads them)."""
    verdicts = [
        statement.get("Effect")
        for statement in _listed(policy.get("Statement"))
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement.get("Action")))
        and any(fnmatch.fnmatchcase(arn, r) for r in _listed(statement.get("Resource")))
    ]
    return "Allow" in verdicts and "Deny" not in verdicts


def _identifiers(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    found = [(name, str(params[name])) for name in IDENTIFIERS if isinstance(params.get(name), str)]
    found += [("TableName", table) for table in params.get("RequestItems", {}) if isinstance(table, str)]
    source = params.get("CopySource")
    if isinstance(source, dict):
        found.append(("CopySource", f"{source.get('Bucket')}/{source.get('Key')}"))
    return tuple(found)


@contextmanager
def recording() -> Iterator[Calls]:
    """Record every call of every botocore client created inside the context."""
    calls = Calls()
    original = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        model = client.meta.service_model
        signing = str(model.metadata.get("signingName") or model.endpoint_prefix)
        prefix = PREFIXES.get(signing, signing)
        region = str(client.meta.region_name)

        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            if threading.current_thread().name.startswith(BACKGROUND):
                return  # a drill's call, not the command's
            calls.calls.append(Call(model.service_model.service_name, prefix, model.name, region, _identifiers(params)))

        client.meta.events.register("provide-client-params.*.*", hook)
        return client

    with mock.patch.object(botocore.session.Session, "create_client", create_client):
        yield calls


# redrive --from-archive: ListObjectVersions is authorized as s3:ListBucketVersions, on the bucket.
ACTIONS[("s3", "ListObjectVersions")] = ("s3:ListBucketVersions",)
