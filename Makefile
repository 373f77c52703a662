# The two commands: `make demo` and `make test`. Each sets up everything it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

BENCH_REPEAT ?= 5

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vigil demo --output demo-output

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench

test: $(STAMP) lint
	$(VENV)/bin/pytest -q

# Benchmarks against whylogs, Evidently and DuckDB (their own venv under bench/.peers/);
# writes bench/RESULTS.md. Not part of `make test`: it takes minutes and a quiet machine.
bench: $(STAMP)
	bash bench/setup_peers.sh
	$(PY) bench/run_bench.py --repeat $(BENCH_REPEAT)

clean:
	rm -rf $(VENV) demo-output .pytest_cache
