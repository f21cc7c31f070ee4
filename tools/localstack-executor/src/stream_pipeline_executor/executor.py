"""LocalStack glue: the ``local-python`` runtime executor plugin.

LocalStack runs Lambda code only in Docker. This executor lets LocalStack's own Lambda service
(its event source mappings with polling, batching, filters, bisect, retries and on-failure
destinations) drive a function's real handler in a local Python process instead: one warm
process per execution environment (see :mod:`stream_pipeline_executor.process`).

Enable it with ``LAMBDA_RUNTIME_EXECUTOR=local-python``; ``STREAM_PIPELINE_RUNTIME_DIR`` names the
folder that stands in for the runtime's own packages (boto3 and its dependencies).

It also does what CloudWatch Logs does in AWS and LocalStack does not: the function's Embedded
Metric Format lines become metric data (:mod:`stream_pipeline_executor.emf`), so the handler's
business metrics, the dashboard's widgets on them and the alarms on them work locally. And what
Lambda's event source mappings publish in AWS and LocalStack's do not: PolledEventCount and the
failure path's counts (:mod:`stream_pipeline_executor.esm_metrics`), so the consumer-stopped and
failure-path alarms see real polls, real deliveries and a real stop. And, when
``STREAM_PIPELINE_SHARD_POLLERS`` asks for it, shards polled concurrently with the mapping's
parallelization factor, as Lambda polls them (:mod:`stream_pipeline_executor.shard_pollers`).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from localstack import config
from localstack.aws.connect import connect_to
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from stream_pipeline_executor import esm_metrics, shard_pollers
from stream_pipeline_executor.emf import metric_data
from stream_pipeline_executor.process import WorkerProcess, runtime_version

LOG = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "SSL_CERT_FILE", "AWS_CA_BUNDLE")


def python_version_of(runtime: str | None) -> str:
    try:
        return runtime_version(runtime)
    except ValueError as exc:
        raise LambdaRuntimeException(str(exc)) from None


def interpreter_for(version: str) -> str:
    """An interpreter of the runtime's minor version: this one, one on PATH, or one from pyenv."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted((str(p) for p in Path(root).glob(f"versions/{version}.*/bin/python{version}")), reverse=True)
    for candidate in candidates:
        if candidate:
            return candidate
    raise LambdaRuntimeException(f"No Python {version} interpreter found for runtime python{version}.")


class LocalPythonExecutor(RuntimeExecutor):  # type: ignore[misc]
    def __init__(self, id: str, function_version: FunctionVersion) -> None:  # noqa: A002 - LocalStack's signature
        super().__init__(id, function_version)
        self.worker: WorkerProcess | None = None
        self.history: list[str] = []

    def start(self, env_vars: dict[str, str]) -> None:
        function = self.function_version.config
        version = python_version_of(function.runtime)
        task_dir = Path(function.code.get_unzipped_code_location())
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env |= {key: str(value) for key, value in env_vars.items()}
        env |= {"LAMBDA_TASK_ROOT": str(task_dir), "PYTHONDONTWRITEBYTECODE": "1"}
        self.worker = WorkerProcess(
            python=interpreter_for(version),
            task_dir=task_dir,
            runtime_dir=Path(os.environ.get("STREAM_PIPELINE_RUNTIME_DIR", task_dir)),
            handler=function.handler,
            env=env,
            timeout_s=float(function.timeout),
            memory_mb=int(function.memory_size),
            version=self.function_version.id.qualifier,
        )
        self.worker.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def get_address(self) -> str:
        return LOCALHOST

    def get_endpoint_from_executor(self) -> str:
        return LOCALHOST

    def get_runtime_endpoint(self) -> str:
        return f"http://{LOCALHOST}:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    def invoke(self, payload: dict[str, Any]) -> InvocationResult:
        if self.worker is None:
            raise LambdaRuntimeException("The execution environment was not started.")
        outcome = self.worker.invoke(payload["invoke-id"], payload["invoked-function-arn"], payload["payload"])
        self.history.append(outcome.logs)
        self.publish_emf(outcome.logs)
        return InvocationResult(
            request_id=payload["invoke-id"], payload=outcome.payload, is_error=not outcome.ok, logs=outcome.logs
        )

    def publish_emf(self, logs: str) -> None:
        """PutMetricData for every EMF line of the invocation, in the function's account and region."""
        calls = metric_data(logs)
        if not calls:
            return
        identity = self.function_version.id
        cloudwatch = connect_to(aws_access_key_id=identity.account, region_name=identity.region).cloudwatch
        for namespace, data in calls:
            try:
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
            except Exception:  # metrics must never fail the invocation, as in AWS
                LOG.exception("EMF bridge: PutMetricData to %s failed", namespace)

    def get_logs(self) -> str:
        return "".join(self.history)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        python_version_of(function_version.config.runtime)
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing to clean: the unzipped code belongs to LocalStack."""

    @classmethod
    def validate_environment(cls) -> bool:
        return True


def publish_lambda_metrics(account: str, region: str, data: list[dict[str, Any]]) -> None:
    """PutMetricData into AWS/Lambda for the event source mapping metrics bridge; never raises."""
    try:
        connect_to(aws_access_key_id=account, region_name=region).cloudwatch.put_metric_data(
            Namespace=esm_metrics.NAMESPACE, MetricData=data
        )
    except Exception:  # metrics must never fail the poller, as in AWS
        LOG.exception("event source mapping metrics bridge: PutMetricData failed")


class LocalPythonExecutorPlugin(RuntimeExecutorPlugin):  # type: ignore[misc]
    name = "local-python"

    def load(self, *_args: Any, **_kwargs: Any) -> type[LocalPythonExecutor]:
        esm_metrics.install(publish_lambda_metrics)
        shard_pollers.install(shard_pollers.threads_setting())  # off unless STREAM_PIPELINE_SHARD_POLLERS > 0
        return LocalPythonExecutor
