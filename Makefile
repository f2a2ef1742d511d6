# Driftline: `make demo` runs the whole service embedded; `make test` runs the tests.
# Each target creates .venv and installs what it needs by itself.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
DEMO_SECONDS ?= 60

.PHONY: demo test bench lint typecheck clean dashboards pictures

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

# torch==2.13.0 is pinned here because a CPU build of exactly that version is on disk; an open
# range would pull the newest CUDA build (gigabytes). The `torch` extra then installs nothing more.
$(VENV)/.stamp-torch: $(VENV)/.stamp-base
	$(PIP) install torch==2.13.0
	@touch $@

# One pip run for everything the tests need (85 s against 104 s for three runs on a fresh machine);
# it also satisfies the base and torch stamps.
$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PIP) install -e ".[test,torch]" torch==2.13.0
	@touch $@ $(VENV)/.stamp-base $(VENV)/.stamp-torch

$(VENV)/.stamp-bench: pyproject.toml $(VENV)/.stamp-test
	$(PIP) install -e ".[test,torch,bench]"
	@touch $@

$(VENV)/.stamp-docs: pyproject.toml $(VENV)/.stamp-base
	$(PIP) install -e ".[docs]"
	@touch $@

demo: $(VENV)/.stamp-base
	$(VENV)/bin/driftline demo --duration $(DEMO_SECONDS)

test: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(VENV)/.stamp-bench
	$(PY) -m benchmarks.run --out docs/benchmarks.md

# The Grafana dashboards' JSON from dashboards/definitions.py (committed; a test checks it).
dashboards: $(VENV)/.stamp-base
	$(PY) -m dashboards.generate

# The README's pictures of the dashboards: needs a scratch PostgreSQL database (written to).
pictures: $(VENV)/.stamp-docs
	@test -n "$(PICTURES_DATABASE_URL)" || { echo "set PICTURES_DATABASE_URL to a scratch PostgreSQL database"; exit 2; }
	$(PY) -m dashboards.pictures --database-url "$(PICTURES_DATABASE_URL)" --out docs/img/dashboards

clean:
	rm -rf .driftline .pytest_cache .mypy_cache .ruff_cache
