"""examples/dynamodb-streams on LocalStack: changes become audit items, the filter holds."""

from __future__ import annotations

import time
from typing import Any

from stack_support import Stack, client, wait_for
from support import scan


def test_insert_and_modify_become_audit_items_and_remove_is_filtered_out(dynamodb_stack: Stack) -> None:
    dynamodb = client("dynamodb")
    source, sink = dynamodb_stack.outputs["source_table_name"], dynamodb_stack.outputs["sink_table_name"]
    time.sleep(1)  # DynamoDB Local can miss stream records written right after CreateTable
    dynamodb.put_item(TableName=source, Item={"id": {"S": "order-1"}, "total": {"N": "19.990000000000000000001"}})
    dynamodb.update_item(
        TableName=source,
        Key={"id": {"S": "order-1"}},
        UpdateExpression="SET #total = :t",
        ExpressionAttributeNames={"#total": "total"},
        ExpressionAttributeValues={":t": {"N": "25"}},
    )
    dynamodb.delete_item(TableName=source, Key={"id": {"S": "order-1"}})
    dynamodb.put_item(TableName=source, Item={"id": {"S": "order-2"}, "total": {"N": "1"}})

    def audit() -> list[dict[str, Any]]:  # this test's items (the stack is shared: redrive's are there too)
        return [i for i in scan(dynamodb, sink) if i["pk"]["S"] in {'{"id":"order-1"}', '{"id":"order-2"}'}]

    items = wait_for(audit, lambda found: len(found) >= 3, timeout=60)
    time.sleep(3)  # give a REMOVE that should be filtered out the time to (not) arrive
    items = audit()
    by_key: dict[str, list[str]] = {}
    for item in sorted(items, key=lambda i: i["sk"]["S"]):
        by_key.setdefault(item["pk"]["S"], []).append(item["event_name"]["S"])
    assert by_key == {'{"id":"order-1"}': ["INSERT", "MODIFY"], '{"id":"order-2"}': ["INSERT"]}
    modify = next(i for i in items if i["event_name"]["S"] == "MODIFY")
    assert modify["old_image"]["M"]["total"] == {"N": "19.990000000000000000001"}
    assert modify["new_image"]["M"]["total"] == {"N": "25"}
    assert "expires_at" in modify
