# One target per thing a person wants to do. Each creates .venv and installs what it needs.
# The first Python 3.11+ with venv support: the distribution's build (PGO and LTO, much faster
# on the twin's per-tick loop than a plain source build) before whatever python3 is on PATH.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "riverpatrol needs Python 3.11 or newer with venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riverpatrol demo

test: $(STAMP)
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m 'not slow'

bench: $(STAMP)
	$(BIN)/python bench/simulate_speed.py
	$(BIN)/python bench/log_write.py
	$(BIN)/python bench/mavlink_link.py

clean:
	rm -rf $(VENV) riverpatrol-demo .pytest_cache
