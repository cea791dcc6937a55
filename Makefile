# The two commands: `make demo` and `make test`. Each creates or reuses .venv and installs
# what is needed first. See README.md.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# A Python >= 3.12: pyenv's (selected by .python-version), else python3.13/python3.12 on PATH.
PYTHON ?= $(shell for p in "$$(pyenv root 2>/dev/null)/versions/$$(cat .python-version)"*/bin/python \
	python3.13 python3.12 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	  && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
# The official DataMeta client, in a venv of its own (its pins clash with ours); the
# DataMeta sandbox's tests run it unchanged.
DMCLIENT_VENV := .tools/dmclient
DMCLIENT := $(DMCLIENT_VENV)/bin/dmclient

.PHONY: demo test lint typecheck pytest bench install browser clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is needed (pyenv install 3.12, or apt install python3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m portal.demo

# Chromium for the browser tests (Debian's package; Playwright drives it, never downloads one).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy portal deposits sandbox

$(DMCLIENT):
	$(PYTHON) -m venv $(DMCLIENT_VENV)
	$(DMCLIENT_VENV)/bin/python -m pip install -q datameta-client==1.0.1 'setuptools<81'

pytest: $(STAMP) browser $(DMCLIENT)
	DMCLIENT=$(abspath $(DMCLIENT)) $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var
