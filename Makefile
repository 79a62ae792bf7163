# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run console test lint typecheck layers hooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start the bot (needs TELEGRAM_BOT_TOKEN)
	$(PY) -m bot run

console: $(STAMP)  ## chat with Amigo in the terminal, no Telegram needed
	$(PY) -m bot console

test: $(STAMP)  ## what CI runs: lint, type-check, the import rules, then the suite on SQLite and on PostgreSQL
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m tests.layers
	$(PY) -m pytest -q -n 3
	AMIGO_TEST_BACKEND=postgres $(PY) -m pytest -q -n 3

lint: $(STAMP)  ## one part of `make test`: ruff
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

typecheck: $(STAMP)  ## one part of `make test`: mypy (strict)
	$(VENV)/bin/mypy

layers: $(STAMP)  ## one part of `make test`: no import cycles, each layer imports only what it may
	$(PY) -m tests.layers

hooks: $(STAMP)  ## run ruff, mypy and the import check before every commit
	$(VENV)/bin/pre-commit install

bench: $(STAMP)  ## print the numbers recorded in docs/benchmarks.md
	$(PY) -m tests.benchmarks.export_bench
	$(PY) -m tests.benchmarks.purge_bench
	$(PY) -m tests.benchmarks.chat_bench
	$(PY) -m tests.benchmarks.signals_bench
	$(PY) -m tests.benchmarks.stream_bench
	$(PY) -m tests.benchmarks.overhead_bench
	$(PY) -m tests.benchmarks.window_bench
	$(PY) -m tests.benchmarks.workers_bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
