"""aws_calls.recording(): which calls count as the command's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
from moto import mock_aws

from aws_calls import BACKGROUND, recording


def list_queues() -> None:
    boto3.session.Session().client("sqs", region_name="us-east-1").list_queues()


def test_a_drill_thread_s_calls_are_left_out_and_the_command_s_own_threads_are_kept() -> None:
    with mock_aws(), recording() as calls:
        list_queues()  # the command's main thread
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger") as pool:
            pool.submit(list_queues).result()  # a pool of the command's own (redrive's ledger reads)
        drill = threading.Thread(target=list_queues, name=f"{BACKGROUND}_0")  # a drill beside the tests
        drill.start()
        drill.join()
    assert calls.count("sqs:ListQueues") == 2
