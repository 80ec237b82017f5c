# The two commands of README.md: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := backend:create_app

.PHONY: run test install lint format contract bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Start the API on the embedded SQLite database, with demo data, at http://127.0.0.1:5000
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

## Run the whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check backend tests bench migrations
	$(BIN)/ruff format --check backend tests bench

format: install
	$(BIN)/ruff check --fix backend tests bench migrations
	$(BIN)/ruff format backend tests bench

## Regenerate mobile_contract/openapi.json from the code
contract: install
	$(BIN)/flask contract write

clean:
	rm -rf $(VENV) .pytest_cache
