"""Orders from a Kinesis stream: validate each one, and write it to the team's table if one is set.

Wired with ``RECORD_PROCESSOR=my_team.orders:handle``. The pipeline calls ``handle`` once per
record, in order; raising fails the record (it is reported in ``batchItemFailures``, retried, and
finally sent to the on-failure destination), so nothing is lost. Raise ``PoisonRecord`` with a
reason that carries no payload, and the handler logs that reason; any other exception is logged
by its type only, since its text may quote the record.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3  # provided by the python3.13 Lambda runtime

from stream_pipeline.records import PoisonRecord  # the package this processor is zipped beside

if TYPE_CHECKING:
    from stream_pipeline.records import StreamRecord

MAX_BYTES = 16_384


@cache
def _table() -> Any:
    name = os.environ.get("ORDERS_TABLE")
    return boto3.resource("dynamodb").Table(name) if name else None


def handle(record: StreamRecord) -> None:
    order = record.json(MAX_BYTES)
    if not isinstance(order, dict) or not isinstance(order.get("order_id"), str):
        raise PoisonRecord("an order needs a string order_id")
    total = order.get("total")
    if not isinstance(total, int | float) or isinstance(total, bool) or total < 0:
        raise PoisonRecord("an order needs a non-negative total")
    table = _table()
    if table is not None:
        table.put_item(Item={"order_id": order["order_id"], "total": Decimal(str(total))})
