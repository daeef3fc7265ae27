# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test reliability lint format bench package deploy clean clients
.DEFAULT_GOAL := help

# `make` or `make help`: every target with its `##` line.
help:
	@echo "Shoppable: make <target>"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# checkov (the IaC scanner the infra tests run) pins an older boto3: its own virtualenv.
SCAN := $(VENV)/scan
SCAN_STAMP := $(SCAN)/.installed
$(SCAN_STAMP): requirements-scan.txt | $(STAMP)
	test -x $(SCAN)/bin/python || $(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $(SCAN_STAMP)

# The browser tests (tests/browser) drive Debian's Chromium through Playwright, which never
# downloads a browser here. Installed once, as root or with sudo; another Chromium can be
# given with `make test CHROMIUM=/path/to/chromium`.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	@command -v apt-get > /dev/null || { echo "Install Chromium for the browser tests," \
		"then run: make test CHROMIUM=/path/to/chromium"; exit 1; }
	@echo "Installing Debian's chromium for the browser tests"
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null

# The tools that check the generated clients (tsc, newman), from npm; node comes with the machine.
NODE_TOOLS := clients/node_modules/.installed
$(NODE_TOOLS): clients/package.json clients/package-lock.json
	@command -v npm > /dev/null || { echo "Install Node.js 20 or newer (npm) for the client checks"; exit 1; }
	npm ci --prefix clients --no-audit --no-fund --loglevel=error
	touch $(NODE_TOOLS)

install: $(STAMP) $(SCAN_STAMP) $(CHROMIUM) $(NODE_TOOLS)  ## set up .venv, the IaC scanner, Chromium and the client checks' npm tools

run: $(STAMP)  ## serve the whole stack on http://127.0.0.1:8000 and a demo page to buy from
	$(BIN)/python -m devstack

test: $(STAMP) $(SCAN_STAMP) $(CHROMIUM) $(NODE_TOOLS)  ## the whole test suite: unit, integration, e2e, browser
	SHOPPABLE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

# Faults, duplicates, fuzzing, forgery, tenant isolation, abuse and the flash sale, slow parts
# included (`make test` runs a smaller subset); writes the run's figures to RELIABILITY.md.
reliability: $(STAMP) $(SCAN_STAMP)  ## faults, forgery, abuse, a flash sale; writes RELIABILITY.md
	SHOPPABLE_RELIABILITY_REPORT=RELIABILITY.md $(BIN)/python -m pytest -q -m "" tests/reliability

lint: $(STAMP)  ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)  ## ruff format and ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clients: $(STAMP)  ## regenerate the storefront client and the Postman collection from the OpenAPI
	$(BIN)/python -m devstack.clients

bench: $(STAMP)  ## benchmarks against a floor from the same run (bench/results.json)
	$(BIN)/python -m bench

# One region's stack: infra/build/$(STAGE)-$(REGION)/template.json and its deployment.zip.
REGION ?= us-east-1
STAGE ?= dev
package: $(STAMP)  ## one region's CloudFormation: make package REGION=eu-west-1 STAGE=prod
	$(BIN)/python -m infra.build --region $(REGION) --stage $(STAGE)

# Operators only, with their own AWS credentials (it refuses to run in CI): uploads the code and
# template to BUCKET (or the region file's deployment_bucket) and creates or updates the stack.
deploy: package  ## operators only: make deploy REGION=eu-west-1 STAGE=prod [BUCKET=…]
	$(BIN)/python -m infra.deploy --region $(REGION) --stage $(STAGE) $(if $(BUCKET),--bucket $(BUCKET))

clean:  ## remove .venv, .shoppable and build output
	rm -rf $(VENV) .shoppable .pytest_cache .ruff_cache infra/build
