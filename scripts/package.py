"""Build the Lambda zip deterministically: the same sources give the same bytes.

    python scripts/package.py [--out modules/consumer/package/lambda.zip] [--arch x86_64|arm64] [--add DIR ...]

* Runtime dependencies come from ``requirements/lambda.txt`` (exact pins), installed
  for the Lambda runtime's Python version and platform, without their dependencies:
  the file lists every one we ship. boto3, botocore and jmespath are not shipped,
  because the python3.13 runtime provides them.
* Powertools sub-packages the handler never imports are pruned (they are most of
  its size); ``tests/unit/test_package.py`` runs the zip alone to prove nothing it
  needs is missing.
* The repository's ``VERSION`` goes in as ``stream_pipeline/VERSION``: the function has no package
  metadata, and ``stream_pipeline.__version__`` reads the file beside it.
* Entries are sorted, timestamps fixed to 1980-01-01 and permissions to 0644, and
  ``__pycache__`` left out, so the hash changes only when the code does.
* ``--add DIR_OR_FILE`` (repeatable) adds a team's own package or module next to ours, for
  ``RECORD_PROCESSOR=my_team.records:handle`` without forking (examples/custom-processor);
  pure Python only, and it may not replace a module the zip already carries.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRUNE = (
    "aws_lambda_powertools/event_handler",
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/batch",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/parameters",
    "aws_lambda_powertools/utilities/parser",
    "aws_lambda_powertools/utilities/streaming",
    "aws_lambda_powertools/utilities/validation",
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def install_dependencies(target: Path, python_version: str, arch: str) -> None:
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--require-hashes", "--no-compile", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
            "--python-version", python_version, "--platform", PLATFORMS[arch],
            "--target", str(target), "-r", str(ROOT / "requirements" / "lambda.txt"),
        ],
        check=True,
    )  # fmt: skip
    for relative in PRUNE:
        shutil.rmtree(target / relative, ignore_errors=True)
    shutil.copytree(ROOT / "src" / "stream_pipeline", target / "stream_pipeline")
    shutil.copyfile(ROOT / "VERSION", target / "stream_pipeline" / "VERSION")


def add_extra(target: Path, extra: Path) -> None:
    """Copy a team's package directory or module file into the package root."""
    if not extra.exists():
        raise SystemExit(f"--add {extra}: no such file or directory.")
    if (target / extra.name).exists():
        raise SystemExit(f"--add {extra}: the package already has {extra.name!r}; rename your module.")
    if extra.is_dir():
        shutil.copytree(extra, target / extra.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    elif extra.suffix == ".py":
        shutil.copy2(extra, target / extra.name)
    else:
        raise SystemExit(f"--add {extra}: give a package directory or a .py module.")


def write_zip(source: Path, out: Path) -> None:
    files = sorted(
        (p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"),
        key=lambda path: path.relative_to(source).as_posix(),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "modules" / "consumer" / "package" / "lambda.zip")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "package")
    parser.add_argument("--python-version", default="3.13")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--add", type=Path, action="append", default=[], metavar="DIR_OR_FILE",
                        help="a package directory or .py module of your own to ship next to ours")  # fmt: skip
    args = parser.parse_args()

    shutil.rmtree(args.build_dir, ignore_errors=True)
    args.build_dir.mkdir(parents=True)
    install_dependencies(args.build_dir, args.python_version, args.arch)
    for extra in args.add:
        add_extra(args.build_dir, extra.resolve())
    write_zip(args.build_dir, args.out)

    digest = hashlib.sha256(args.out.read_bytes()).digest()
    size = args.out.stat().st_size
    print(f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{size:,} bytes ({size / 1024 / 1024:.2f} MiB), "
          f"filebase64sha256 {base64.b64encode(digest).decode()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
