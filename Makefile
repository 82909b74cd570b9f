# The two commands a new machine needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_DIRS := tests/http-audit tests/e2e tests/schema-lint tests/rich-text tests/subscriptions tests/decap bench/peer

.PHONY: serve test install install-test node-deps browser lint check-content bench-quick constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'

## Install and start the server on the bundled content/ at http://127.0.0.1:8000/graphql
serve: install
	$(BIN)/contentapi serve

## Install everything the tests need (Python, node packages, Chromium) and run every test
test: install-test node-deps browser
	$(BIN)/ruff check contentapi tests bench
	$(BIN)/ruff format --check contentapi tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

node-deps:
	@for dir in $(NODE_DIRS); do \
		if [ -f $$dir/package-lock.json ]; then (cd $$dir && npm ci --no-audit --no-fund --silent) || exit 1; fi; \
	done

## Debian packages the tests and the benchmark smoke run need: Chromium, its driver, wrk, nginx
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v wrk >/dev/null && \
		{ command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wrk nginx)

## The HTTP and image benchmarks in about a minute (CI runs them as smoke tests; the figures are not judged)
bench-quick: install-test node-deps browser
	$(BIN)/python bench/throughput.py --quick
	$(BIN)/python bench/jit.py --quick
	$(BIN)/python bench/protocol.py --quick
	$(BIN)/python bench/servers.py --quick
	$(BIN)/python bench/images.py --quick
	$(BIN)/python bench/rich_text.py --quick
	$(BIN)/python bench/calibrate.py --quick tests/fixtures/sites/docs/docs

## Refresh the lockfile of Python packages from the current environment
constraints:
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt
