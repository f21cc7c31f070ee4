#!/usr/bin/env bash
# `make lock`: compile every requirements/*.in (and pyproject.toml's dependencies and dev extra) into
# a hashed lock file with uv (pinned in the dev extra), resolved for Python 3.13 on Linux (what CI
# runs; the hashes cover every file of each pinned version, so other platforms install the same
# pins). Every install of the project (the dev, policy, checkov and LocalStack venvs, the operator
# command, the Lambda runtime's boto3, the Lambda zip) reads a lock with --require-hashes. uv keeps
# the versions already in a lock unless asked:
#   scripts/lock.sh             # add what is new, keep every other pin
#   scripts/lock.sh --upgrade   # take the newest releases the inputs allow
set -euo pipefail
cd "$(dirname "$0")/.."
uv="${UV:-.venv/bin/uv}"
common=(--quiet --generate-hashes --python-version 3.13 --python-platform linux --custom-compile-command "make lock" "$@")

"$uv" pip compile "${common[@]}" pyproject.toml --extra dev -o requirements/dev.txt
# The operator command's own dependencies (what `pip install .` needs), at the versions the dev lock
# tests: `pip install --require-hashes -r requirements/ops.txt && pip install --no-deps .`.
"$uv" pip compile "${common[@]}" pyproject.toml --constraint requirements/dev.txt -o requirements/ops.txt
for name in build lambda-runtime localstack policy checkov; do
  "$uv" pip compile "${common[@]}" "requirements/$name.in" -o "requirements/$name.txt"
done
# The zip carries exactly what lambda.in names: the runtime provides the rest (boto3, jmespath, ...).
"$uv" pip compile "${common[@]}" --no-deps requirements/lambda.in -o requirements/lambda.txt
echo "Locked: $(ls requirements/*.txt | tr '\n' ' ')"
