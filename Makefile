# Two entry points: `make demo` and `make test`. Each sets up everything it needs first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: test test-all test-matrix demo setup system lint typecheck bench docs clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# Debian packages and npm modules that the integration tests drive (redis, chromium, node clients).
system:
	bash scripts/system-deps

test: setup system
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# Every supported Python (3.10 to 3.13, from PATH or pyenv) with the newest dependencies, the
# whole suite on each; NOX_ARGS="-s tests-3.13" for one. Virtualenvs are kept in .nox/.
test-all: setup system
	$(VENV)/bin/nox $(NOX_ARGS)

# What CI runs after `make test`: the quick set on the Pythons besides $(PYTHON).
MATRIX ?= 3.10 3.12 3.13
test-matrix: setup system
	$(VENV)/bin/nox -s $(foreach v,$(MATRIX),quick-$(v)) $(NOX_ARGS)

# Only what the demo needs (mixtrack, Django and Flask), in its own virtualenv: a first run is quick.
DEMO_VENV := .venv-demo
$(DEMO_VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet -e '.[demo]'
	touch $@

demo: $(DEMO_VENV)/.installed
	$(DEMO_VENV)/bin/mixtrack demo $(DEMO_ARGS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

# Side-by-side benchmarks against mixpanel-python, segment and posthog (a few minutes;
# BENCH_ARGS=--quick for a smoke run). Writes bench/results/latest.json and latest.png.
bench: setup
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m bench $(BENCH_ARGS)

# The documentation site, built as CI builds it (warnings are errors). Output: site/.
docs: setup
	$(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) $(DEMO_VENV) .nox node_modules .pytest_cache .mypy_cache build dist
