# The two commands: `make demo` and `make test`. Each sets up everything it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BENCH_REPEAT ?= 5

.PHONY: demo test lint bench clean system-deps oracles

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/vigil demo --output demo-output

# Debian packages the integration tests run for real: PostgreSQL (a throwaway cluster on
# 127.0.0.1 per test session), Alertmanager and Prometheus (+ promtool), Chromium (the
# dashboard's browser tests, driven by Playwright), Java 17 (the Spark engine's tests on
# local[2]). Installed once; skipped
# when already there.
system-deps:
	@{ ls /usr/lib/postgresql/*/bin/initdb && command -v prometheus-alertmanager \
	    && command -v prometheus && command -v promtool && command -v chromium \
	    && command -v java; } \
	  >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null || { echo "need apt-get to install test services"; exit 1; }; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install \
	    -y -qq --no-install-recommends postgresql prometheus-alertmanager prometheus \
	    chromium fonts-dejavu-core openjdk-17-jre-headless >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

# smclarify 0.5 (needs pandas<3) in tests/oracles/.venv: the reference of the bias tests.
oracles:
	bash tests/oracles/setup.sh

test: $(STAMP) system-deps lint oracles
	$(VENV)/bin/pytest -q

# Benchmarks against whylogs, Evidently and DuckDB (their own venv under bench/.peers/);
# writes bench/RESULTS.md. Not part of `make test`: it takes minutes and a quiet machine.
bench: $(STAMP) system-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null; }
	bash bench/setup_peers.sh
	$(PY) bench/run_bench.py --repeat $(BENCH_REPEAT)
	$(PY) bench/bench_capture.py
	$(PY) bench/bench_telemetry.py
	$(PY) bench/bench_patterns.py
	$(PY) bench/bench_events.py --events 20000 --batch 500
	$(PY) bench/bench_agent.py
	$(PY) bench/bench_prom.py
	$(PY) bench/bench_dashboard.py
	$(PY) bench/bench_window.py
	$(PY) bench/bench_metrics.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_workers.py
	$(PY) bench/bench_detectors.py
	$(PY) bench/bench_model_quality.py
	$(PY) bench/bench_alarms.py
	$(PY) bench/bench_pg_metrics.py
	$(PY) bench/bench_delivery.py
	$(PY) bench/check_kl_div_evidently.py
	bash tests/oracles/setup.sh
	$(PY) bench/bench_bias.py
	$(PY) bench/bench_spark.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
