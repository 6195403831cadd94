# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest-xdist workers for `make test` (0: one process); each has its own test database and
# Redis database (gateway_site.settings.worker_redis_url)
TEST_WORKERS ?= 2

.PHONY: run test install lint format migrate bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_gateway --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench.book_path
	$(BIN)/python -m bench.simulator
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.persist
	$(BIN)/python -m bench.connector_path
	$(BIN)/python -m bench.order_path
	$(BIN)/python -m bench.reconcile

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
