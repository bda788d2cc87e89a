# copbot: `make run` starts the main job (the sandbox without Slack credentials),
# `make test` runs the tests. Both set up the virtual environment first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

RUN_STAMP := $(VENV)/.installed-run

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `make run` needs copbot, not the test tools: a newcomer's first run installs only that,
# without compiling every installed module (Python compiles what it imports, once): about
# half the install's CPU time.
$(RUN_STAMP): pyproject.toml
	@echo "Setting up copbot in $(VENV) (the first time takes a minute or two)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-compile -e .
	touch $(RUN_STAMP)

run:
	@if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
		$(MAKE) --no-print-directory $(RUN_STAMP); fi
	$(BIN)/copbot run

# The suite runs in TEST_WORKERS processes (pytest-xdist; on PostgreSQL each worker has a
# database of its own, tests/conftest.py), one per core by default; TEST_WORKERS=0 runs it
# in this one process.
TEST_WORKERS ?= auto

test: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
