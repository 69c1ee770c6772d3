# `make demo` and `make test` work from a fresh clone with only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench campaign clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sheets-ops demo demo

lint: $(STAMP)
	$(BIN)/ruff check sheets_ops tests benchmarks jobs.py
	$(BIN)/ruff format --check sheets_ops tests benchmarks jobs.py
	$(BIN)/mypy sheets_ops

# The suite runs on every core (pytest-xdist); `make test JOBS=0` runs it in one process.
JOBS ?= auto

test: lint
	$(BIN)/pytest -n $(JOBS)

# The campaigns at full length: 10 rounds of kills, 20,000 imported rows on Google (CI runs
# them shorter inside `make test`: 3 rounds, 4,000 rows).
campaign: $(STAMP)
	SHEETS_OPS_CAMPAIGN_ROUNDS=10 $(BIN)/pytest -m campaign -s

bench: $(STAMP)
	$(BIN)/python -m benchmarks.cycle_xlsx
	$(BIN)/python -m benchmarks.google_calls
	$(BIN)/python -m benchmarks.inspect_speed
	$(BIN)/python -m benchmarks.intake_accuracy --quiet tests/corpus
	$(BIN)/python -m benchmarks.rules_speed
	$(BIN)/python -m benchmarks.renewals_import
	$(BIN)/python -m benchmarks.intake_scaling
	$(BIN)/python -m benchmarks.google_history
	$(BIN)/python -m benchmarks.learning tests/corpus
	$(BIN)/python -m benchmarks.learning_speed
	$(BIN)/python -m benchmarks.baseline_speed
	$(BIN)/python -m benchmarks.cycle_scaling  # the longest: 100,000 archived requests
	$(BIN)/python -m benchmarks.metrics_speed
	$(BIN)/python -m benchmarks.hostile_intake
	$(BIN)/python -m benchmarks.google_catch_up

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
