# One target per thing a person wants to do. Each creates .venv and installs what it needs.
# The first Python 3.11+ with venv support: the distribution's build (PGO and LTO, much faster
# on the twin's per-tick loop than a plain source build) before whatever python3 is on PATH.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The dashboard's front-end libraries, from npm (package-lock.json), served offline by the station.
VENDOR := src/riverpatrol/station/static/vendor
WEB := $(VENDOR)/.installed
# System packages the tests use: PostGIS for the local PostgreSQL, Chromium for the
# browser tests, CJK fonts for Chinese in reports, poppler to look at report pages, socat for a
# serial line (a pseudo-terminal pair) to the emulated sonde. Installed
# through apt only when missing (CI runs as root on Debian).
PG_MAJOR := $(shell ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils socat $(if $(PG_MAJOR),postgresql-$(PG_MAJOR)-postgis-3)
# A C compiler and Python's headers build the compiled inner loops (Cython) when the package installs.
BUILD_PACKAGES := gcc python3-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

.PHONY: demo test test-fast bench clean web system-packages build-packages

$(STAMP): pyproject.toml setup.py $(wildcard src/riverpatrol/*/_kernels.pyx) | build-packages
	@test -n "$(PYTHON)" || { echo "riverpatrol needs Python 3.11 or newer with venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(WEB): package.json package-lock.json
	command -v npm >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q npm; }
	npm ci --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images \
		node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	touch $@

web: $(WEB)

system-packages build-packages:
	@missing=$$(for p in $(if $(filter build-packages,$@),$(BUILD_PACKAGES),$(APT_PACKAGES)); do \
		dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

demo: $(STAMP) $(WEB)
	$(BIN)/riverpatrol demo

test: $(STAMP) $(WEB) system-packages
	$(BIN)/pytest

test-fast: $(STAMP) $(WEB) system-packages
	$(BIN)/pytest -m 'not slow'

bench: $(STAMP)
	$(BIN)/python bench/simulate_speed.py
	$(BIN)/python bench/log_write.py
	$(BIN)/python bench/instruments.py
	$(BIN)/python bench/mavlink_link.py

clean:
	rm -rf $(VENV) riverpatrol-demo .pytest_cache node_modules $(VENDOR)
