# terraform-aws-stream-pipeline: one entry point for contributors and CI.
# `make help` lists the targets. Everything installs itself into ignored folders.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# $(call q,VALUE): VALUE as one shell word. Every value a caller can set (EXAMPLE, RACERS, DURATION,
# PLAN, DRAIN, ARCH, PY_VERSION, and the paths) reaches a shell command only through it: in single
# quotes, each ' written as '\''. The data values are read with $(value NAME), so make does not expand
# a `$(shell ...)` inside one either: `make load RACERS='1; touch /tmp/pwned'` hands the load command
# the racer count `1; touch /tmp/pwned`, which it refuses (tests/unit/test_supply_chain.py).
q = '$(subst ','\'',$(1))'

# The Lambda runtime is python3.13 (see README "Runtime"); tests run on the same minor version.
PY_VERSION ?= 3.13
ARCH ?= x86_64
VENV ?= .venv
PY := $(VENV)/bin/python
# The Lambda package is committed, so the module plans from a git source with no build step;
# `make package` rebuilds it (deterministic), and the unit tier fails when it is stale.
ZIP := modules/consumer/package/lambda.zip

# Terraform: use a local provider mirror when one is configured or present, else the registry.
# Set TF_PLUGIN_DIR to your mirror (a folder holding registry.terraform.io/hashicorp/aws/...).
TF ?= terraform
TF_MIRROR_CANDIDATES := /opt/tf-plugins $(HOME)/.terraform.d/plugins /usr/share/terraform/plugins /usr/local/share/terraform/plugins
TF_PLUGIN_DIR ?= $(firstword $(foreach d,$(TF_MIRROR_CANDIDATES),$(if $(wildcard $(d)/registry.terraform.io/hashicorp/aws),$(d))))
TF_INIT_FLAGS := -backend=false -input=false -no-color $(if $(TF_PLUGIN_DIR),$(call q,-plugin-dir=$(TF_PLUGIN_DIR)))
export TF_PLUGIN_DIR
TF_DIRS := . $(wildcard modules/*) $(wildcard examples/*)
POLICY_VENV ?= .venv-policy
CHECKOV_VENV ?= .venv-checkov
export POLICY_VENV CHECKOV_VENV
# A TF_CLI_CONFIG_FILE pointing at a missing file only makes terraform warn on every call.
ifneq ($(TF_CLI_CONFIG_FILE),)
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
unexport TF_CLI_CONFIG_FILE
endif
endif

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Every pip install reads a hashed lock (`make lock` writes them): --require-hashes refuses any file
# whose sha256 is not in the lock. The few source-only dependencies build with the lock's setuptools
# (requirements/build.txt) and no build isolation, whose downloads pip would not hash-check.
PIP := -m pip install --quiet --disable-pip-version-check
PIP_LOCKED := $(PIP) --require-hashes

$(VENV)/.stamp: pyproject.toml requirements/dev.txt VERSION
	@python=$$(scripts/find-python.sh $(call q,$(PY_VERSION))) || exit 1; \
	echo Creating $(call q,$(VENV)) with "$$python"; \
	rm -rf $(call q,$(VENV)); "$$python" -m venv $(call q,$(VENV))
	$(call q,$(PY)) $(PIP_LOCKED) -r requirements/dev.txt
	$(call q,$(PY)) $(PIP) --no-deps --no-build-isolation -e .
	@touch $(call q,$@)

.PHONY: venv
venv: $(VENV)/.stamp ## Create the Python 3.13 virtual environment with the dev tools

.PHONY: lock
lock: $(VENV)/.stamp ## Regenerate the hashed lock files in requirements/ from pyproject.toml and requirements/*.in (UPGRADE=1: newest releases)
	UV=$(call q,$(VENV)/bin/uv) scripts/lock.sh $(if $(value UPGRADE),--upgrade)

# terraform-compliance and checkov pin dependencies that clash with the dev tools: one venv each.
$(POLICY_VENV)/.stamp: requirements/policy.txt requirements/build.txt
	@python=$$(scripts/find-python.sh $(call q,$(PY_VERSION))) || exit 1; rm -rf $(call q,$(POLICY_VENV)); "$$python" -m venv $(call q,$(POLICY_VENV))
	$(call q,$(POLICY_VENV)/bin/python) $(PIP_LOCKED) -r requirements/build.txt
	$(call q,$(POLICY_VENV)/bin/python) $(PIP_LOCKED) --no-build-isolation -r requirements/policy.txt
	@touch $(call q,$@)

$(CHECKOV_VENV)/.stamp: requirements/checkov.txt requirements/build.txt
	@python=$$(scripts/find-python.sh $(call q,$(PY_VERSION))) || exit 1; rm -rf $(call q,$(CHECKOV_VENV)); "$$python" -m venv $(call q,$(CHECKOV_VENV))
	$(call q,$(CHECKOV_VENV)/bin/python) $(PIP_LOCKED) -r requirements/build.txt
	$(call q,$(CHECKOV_VENV)/bin/python) $(PIP_LOCKED) --no-build-isolation -r requirements/checkov.txt
	@touch $(call q,$@)

.PHONY: package
package: $(VENV)/.stamp ## Rebuild the committed Lambda zip (modules/consumer/package/lambda.zip) and print its hash
	$(call q,$(PY)) scripts/package.py --out $(call q,$(ZIP)) --arch $(call q,$(value ARCH)) --python-version $(call q,$(value PY_VERSION))

.PHONY: lint
lint: lint-python ## ruff, mypy --strict, terraform fmt -check
	$(call q,$(TF)) fmt -check -recursive -diff .

.PHONY: lint-python
lint-python: $(VENV)/.stamp
	$(call q,$(VENV)/bin/ruff) check .
	$(call q,$(VENV)/bin/ruff) format --check .
	$(call q,$(VENV)/bin/mypy)

.PHONY: fmt
fmt: $(VENV)/.stamp ## Format Python and Terraform in place
	$(call q,$(VENV)/bin/ruff) format .
	$(call q,$(VENV)/bin/ruff) check --fix .
	$(call q,$(TF)) fmt -recursive .

.PHONY: test-unit
test-unit: $(VENV)/.stamp ## Unit tier: handler, sink, zip, local executor, load generator (moto, in-process)
	$(call q,$(PY)) scripts/run_tier.py unit

.PHONY: validate
validate: ## terraform init (local mirror when present) and validate: root, modules, examples
	@for dir in $(foreach d,$(TF_DIRS),$(call q,$(d))); do \
	  echo "terraform validate $$dir"; \
	  $(call q,$(TF)) -chdir="$$dir" init $(TF_INIT_FLAGS) >/dev/null || exit 1; \
	  $(call q,$(TF)) -chdir="$$dir" validate -no-color >/dev/null || { $(call q,$(TF)) -chdir="$$dir" validate -no-color; exit 1; }; \
	done

.PHONY: test-terraform
test-terraform: ## terraform test with mocked providers: wiring, alarm math, dashboard JSON, IAM, validations
	$(call q,$(TF)) init $(TF_INIT_FLAGS) -test-directory=tests/terraform >/dev/null
	$(call q,$(TF)) test -test-directory=tests/terraform -no-color

.PHONY: test-policy
test-policy: $(VENV)/.stamp $(POLICY_VENV)/.stamp $(CHECKOV_VENV)/.stamp ## terraform-compliance on the examples' plans, checkov
	$(call q,$(PY)) scripts/run_tier.py policy

.PHONY: policy
policy: $(POLICY_VENV)/.stamp ## Run the terraform-compliance policies on your own plan: make policy PLAN=plan.json
	@test -n $(call q,$(value PLAN)) || { echo "usage: terraform show -json tfplan > plan.json && make policy PLAN=plan.json"; exit 2; }
	$(call q,$(POLICY_VENV)/bin/terraform-compliance) -f tests/policy -p $(call q,$(value PLAN))

.PHONY: docs
docs: $(VENV)/.stamp ## Regenerate the inputs/outputs tables of every README
	$(call q,$(PY)) scripts/tfdocs.py

.PHONY: docs-check
docs-check: $(VENV)/.stamp
	$(call q,$(PY)) scripts/tfdocs.py --check

.PHONY: test-integration
test-integration: $(VENV)/.stamp $(POLICY_VENV)/.stamp ## Both examples on LocalStack, driven end to end (starts and stops LocalStack)
	$(call q,$(PY)) scripts/run_tier.py integration --durations=8

.PHONY: test-consumer
test-consumer: $(VENV)/.stamp ## Consumer tier: the module imported as teams import it (git::file:// clone, no build step), offline
	$(call q,$(PY)) scripts/run_tier.py consumer

.PHONY: test
# Two tiers at a time where they share nothing (the unit tier is Python, `terraform test` is Terraform;
# the consumer tier works in temporary folders, the policy tier in the examples): on the 2-core CI
# machine that keeps `make test` under 15 minutes. Each tier's output is printed whole when it ends.
test: $(VENV)/.stamp ## Everything CI runs: lint, docs, validate, every test tier
	$(MAKE) --no-print-directory lint docs-check validate
	$(MAKE) --no-print-directory -j2 --output-sync=target test-unit test-terraform
	$(MAKE) --no-print-directory -j2 --output-sync=target test-consumer test-policy
	$(MAKE) --no-print-directory test-integration

EXAMPLE ?= kinesis-alleycat

.PHONY: up
up: $(VENV)/.stamp package ## Bring the whole pipeline up on LocalStack, no Docker needed (EXAMPLE=dynamodb-streams for the other)
	$(call q,$(PY)) -m stream_pipeline_local.localstack up --example $(call q,$(value EXAMPLE))

# The standard AWS variables, pointed at `make up`'s LocalStack (the operator command reads nothing else).
LOCAL_AWS = AWS_ENDPOINT_URL=http://127.0.0.1:$${LOCALSTACK_PORT:-4566} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

RACERS ?= 100
DURATION ?= 60
# The seconds per point of `make report`, and the interval of the producer metrics `make load` publishes
# (the KPL's MetricsUploadDelay), so that records put and records processed are counted over the same span.
REPORT_PERIOD := 10

.PHONY: load
load: $(VENV)/.stamp ## Race RACERS simulated racers (1-1000) for DURATION seconds into the stack `make up` brought up (AGGREGATE=1: KPL aggregates)
	@test -f .localstack/stack.json || { echo "No local stack: run \`make up\` (or \`make up EXAMPLE=dynamodb-streams\`) first."; exit 3; }
	$(LOCAL_AWS) $(call q,$(VENV)/bin/stream-pipeline) load --outputs .localstack/stack.json --racers $(call q,$(value RACERS)) --seconds $(call q,$(value DURATION)) --metrics-upload-delay-ms $(REPORT_PERIOD)000 $(if $(value AGGREGATE),--aggregate)

.PHONY: doctor
doctor: $(VENV)/.stamp ## Findings on the stack `make up` brought up: evidence and the fix, most severe first
	@test -f .localstack/stack.json || { echo "No local stack: run \`make up\` first."; exit 3; }
	$(LOCAL_AWS) $(call q,$(VENV)/bin/stream-pipeline) doctor --outputs .localstack/stack.json

.PHONY: report
report: $(VENV)/.stamp ## After `make load`: the race report (CONSUMER=key of several, default `default`) and the dashboard as PNGs in .localstack/
	@test -f .localstack/stack.json || { echo "No local stack: run \`make up\` and \`make load\` first."; exit 3; }
	$(LOCAL_AWS) $(call q,$(VENV)/bin/stream-pipeline) report --outputs .localstack/stack.json --consumer $(call q,$(or $(value CONSUMER),default)) --minutes 5 --period $(REPORT_PERIOD) --out .localstack/race-report.png
	$(LOCAL_AWS) $(call q,$(VENV)/bin/stream-pipeline) dashboard --outputs .localstack/stack.json --minutes 10 --out .localstack/dashboard.png

.PHONY: inbox
inbox: $(VENV)/.stamp ## The alarm notifications `make up`'s local inbox received, as the email reads (DRAIN=1 deletes them)
	$(call q,$(PY)) -m stream_pipeline_local.localstack inbox $(if $(value DRAIN),--drain)

.PHONY: alert-test
alert-test: $(VENV)/.stamp ## A test page through a paging alarm of `make up`'s stack, seen arriving in the local inbox (then `make inbox`)
	@test -f .localstack/stack.json || { echo "No local stack: run \`make up\` first."; exit 3; }
	$(LOCAL_AWS) $(call q,$(VENV)/bin/stream-pipeline) alert-test --outputs .localstack/stack.json --consumer $(call q,$(or $(value CONSUMER),default)) \
	  --inbox "$$($(call q,$(PY)) -c 'import json; print(json.load(open(".localstack/stack.json"))["local_inbox_queue_url"])')"

.PHONY: listeners
listeners: $(VENV)/.stamp ## Every socket LocalStack's processes listen on; fails when one is not on loopback
	$(call q,$(PY)) -m stream_pipeline_local.localstack listeners

.PHONY: down
down: $(VENV)/.stamp ## Destroy the local pipeline (and its local inbox) and stop LocalStack
	$(call q,$(PY)) -m stream_pipeline_local.localstack down

.PHONY: bench
bench: $(VENV)/.stamp package ## Benchmarks P1-P9 (P5: 1,000 racers x 60 s on LocalStack, 64 emulator shards; P5a: the same race aggregated; P5=0 skips both; BENCH_ONLY=P5: P5 before and after the shard pollers)
	$(call q,$(TF)) init $(TF_INIT_FLAGS) -test-directory=tests/terraform >/dev/null
	$(call q,$(PY)) bench/run.py

.PHONY: clean
clean: ## Remove build output (keeps the virtual environment)
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
	find . -name .terraform -type d -prune -exec rm -rf {} +
