"""Every AWS call a piece of code makes, as IAM actions on resources, recorded with botocore's own
event hooks (``provide-client-params``, which sees each call's parameters before they are sent), so
a test can compare what a command really does with the least-privilege policy the module publishes.

    with recording() as calls:
        cli.main(["redrive", "--outputs", path, "--apply"])
    assert calls.actions() <= allowed

Every client created while the context is open is hooked (boto3's and botocore's sessions alike);
clients created before it are not, so create them inside.
"""

from __future__ import annotations

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
}
IDENTIFIERS: Final = (
    "TableName", "StreamName", "StreamARN", "StreamArn", "QueueUrl", "QueueName", "Bucket", "Key",
    "FunctionName", "KeyId", "DashboardName",
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

    def regions(self) -> set[str]:
        return {call.region for call in self.calls}

    def table(self) -> str:
        """One line per action: the count and the resources, for a report."""
        counts = self.counts()
        return "\n".join(
            f"{action} x{counts[action]}: {', '.join(sorted(resources))}"
            for action, resources in sorted(self.resources().items())
        )


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
        prefix = str(model.metadata.get("signingName") or model.endpoint_prefix)
        region = str(client.meta.region_name)

        def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.calls.append(Call(model.service_model.service_name, prefix, model.name, region, _identifiers(params)))

        client.meta.events.register("provide-client-params.*.*", hook)
        return client

    with mock.patch.object(botocore.session.Session, "create_client", create_client):
        yield calls
