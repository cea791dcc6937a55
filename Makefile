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
# Every package installed, transitively, pinned with its sha256 hashes (`make lock` writes
# it, with uv). Installs take exactly it (pip --require-hashes), so `make demo`, `make test`
# and CI get the same files everywhere, and a tampered or swapped download is refused.
LOCK := requirements.lock
UV_VERSION := 0.13.9
# Requirements the lock holds beyond pyproject.toml's; drop one once pyproject lists it.
LOCK_EXTRA :=
# e.g. `make lock LOCK_ARGS=--upgrade` for the newest versions; by default the pins kept.
LOCK_ARGS :=
# The official DataMeta client, in a venv of its own (its pins clash with ours); the
# DataMeta sandbox's tests run it unchanged.
DMCLIENT_VENV := .tools/dmclient
DMCLIENT := $(DMCLIENT_VENV)/bin/dmclient
# The published Coscine SDK, in a venv of its own; the Coscine sandbox's tests run it.
COSCINE_SDK_VENV := .tools/coscine
COSCINE_SDK := $(COSCINE_SDK_VENV)/bin/python
COSCINE_SDK_STAMP := $(COSCINE_SDK_VENV)/.installed

.PHONY: demo test lint typecheck pytest bench soak install browser clean lock

$(STAMP): pyproject.toml $(LOCK)
	@test -n "$(PYTHON)" || { echo "Python 3.12+ is needed (pyenv install 3.12, or apt install python3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	@$(BIN)/python -m pip check || { echo "The lock file does not satisfy pyproject.toml: run 'make lock' and commit $(LOCK)"; exit 1; }
	touch $(STAMP)

# Not on $(STAMP): a pyproject.toml the old lock cannot satisfy must still be lockable.
lock:
	@test -n "$(PYTHON)" || test -x $(BIN)/python || { echo "Python 3.12+ is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q 'uv==$(UV_VERSION)'
	printf '%s\n' $(LOCK_EXTRA) | $(BIN)/uv pip compile --quiet pyproject.toml - --extra dev --extra bench \
	  --strip-extras --generate-hashes --python-version 3.12 --python-platform x86_64-unknown-linux-gnu \
	  $(LOCK_ARGS) -o $(LOCK)

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

$(COSCINE_SDK_VENV): $(COSCINE_SDK_STAMP)
$(COSCINE_SDK_STAMP):
	test -x $(COSCINE_SDK) || $(PYTHON) -m venv $(COSCINE_SDK_VENV)
	$(COSCINE_SDK) -m pip install -q coscine==0.12.2
	touch $(COSCINE_SDK_STAMP)

pytest: $(STAMP) browser $(DMCLIENT) $(COSCINE_SDK_STAMP)
	DMCLIENT=$(abspath $(DMCLIENT)) COSCINE_SDK_PYTHON=$(abspath $(COSCINE_SDK)) $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Up to 30 minutes; not part of `make test`. Knobs (SOAK_DEPOSITS, ...): bench/README.md.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) var
