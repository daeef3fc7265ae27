# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test reliability lint format bench package deploy clean

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

install: $(STAMP) $(SCAN_STAMP) $(CHROMIUM)

run: $(STAMP)
	$(BIN)/python -m devstack

test: $(STAMP) $(SCAN_STAMP) $(CHROMIUM)
	SHOPPABLE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q

# Faults, duplicates, fuzzing, forgery, tenant isolation, abuse and the flash sale, slow parts
# included (`make test` runs a smaller subset); writes the run's figures to RELIABILITY.md.
reliability: $(STAMP) $(SCAN_STAMP)
	SHOPPABLE_RELIABILITY_REPORT=RELIABILITY.md $(BIN)/python -m pytest -q -m "" tests/reliability

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

# One region's stack: infra/build/$(STAGE)-$(REGION)/template.json and its deployment.zip.
REGION ?= us-east-1
STAGE ?= dev
package: $(STAMP)
	$(BIN)/python -m infra.build --region $(REGION) --stage $(STAGE)

# Operators only, with their own AWS credentials (it refuses to run in CI): uploads the code and
# template to BUCKET (or the region file's deployment_bucket) and creates or updates the stack.
deploy: package
	$(BIN)/python -m infra.deploy --region $(REGION) --stage $(STAGE) $(if $(BUCKET),--bucket $(BUCKET))

clean:
	rm -rf $(VENV) .shoppable .pytest_cache .ruff_cache infra/build
