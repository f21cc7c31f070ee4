"""Nothing the harness starts listens beyond loopback: LocalStack's gateway, kinesis-mock (node),
DynamoDB Local (java) and the executor's workers, checked on the live process tree with both stacks
applied and after a Lambda has run (the README's "What listens where")."""

from __future__ import annotations

import json

from stack_support import Stack, client
from stream_pipeline_local import localstack
from stream_pipeline_local.common import PORT
from stream_pipeline_local.listeners import exposed, listeners, process_tree


def test_every_socket_of_the_harness_process_tree_is_on_loopback(kinesis_stack: Stack, dynamodb_stack: Stack) -> None:
    # A Lambda runs (an empty Kinesis batch: the handler's real code path, nothing written).
    answer = client("lambda").invoke(FunctionName=kinesis_stack.outputs["function_name"], Payload=b'{"Records": []}')
    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == {"batchItemFailures": []}
    # Both stacks hold tables and a stream: DynamoDB Local and kinesis-mock are running.
    assert kinesis_stack.outputs["sink_table_name"] in client("dynamodb").list_tables()["TableNames"]
    assert dynamodb_stack.outputs["sink_table_name"] in client("dynamodb").list_tables()["TableNames"]
    assert client("kinesis").describe_stream_summary(StreamName=kinesis_stack.outputs["stream_name"])
    root = localstack.pid()
    assert root is not None

    found = listeners(root)
    census = "\n".join(f"{'ok     ' if listener.loopback else 'EXPOSED'} {listener}" for listener in found)
    print(f"\nListeners of LocalStack's process tree (pid {root}):\n{census}")  # noqa: T201 - the test's report
    assert exposed(found) == [], f"reachable from other machines:\n{census}"

    assert any(listener.pid == root and listener.port == PORT for listener in found), "the gateway is not in the list"
    tree = {process.pid: " ".join(process.cmdline()) for process in process_tree(root)}
    holders = {tree.get(listener.pid, "") for listener in found}
    assert any("kinesis-local" in command for command in holders), "kinesis-mock's sockets were not seen"
    assert any("DynamoDBLocal" in command for command in holders), "DynamoDB Local's socket was not seen"
    workers = [pid for pid, command in tree.items() if "stream_pipeline_executor/worker.py" in command]
    assert workers, "the executor's worker process (a warm Lambda environment) is not in the tree"
    assert not [listener for listener in found if listener.pid in workers], "a worker must listen on nothing"
