# Alphintra: `make run` starts a demo, `make test` runs every check and test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA ?= ../shared/data/market

.PHONY: venv run demo-backtest test lint typecheck pytest bench clean system-deps

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

run: venv
	ALPHINTRA_DEMO=true $(VENV)/bin/alphintra serve

demo-backtest: venv
	$(VENV)/bin/alphintra backtest \
	  --data BTCUSD=$(DATA)/crypto/minute/BTCUSD_quote.csv \
	  --signals examples/btcusd_signals.jsonl --fees-bps 10 --out out/demo

lint: venv
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy

system-deps:
	bash scripts/system-deps.sh

pytest: venv system-deps
	$(VENV)/bin/pytest -q

test: lint typecheck pytest

bench: venv
	$(PY) bench/compare.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
