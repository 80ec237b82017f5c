# The two commands of README.md: `make run` and `make test`. Only Python 3.11+ is needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := backend:create_app

.PHONY: run test install system-deps lint format contract bench clean

# Debian packages the test suite needs: Chromium and its driver for the browser tests, CJK fonts
# for Korean text in screenshots, NanumGothic (TrueType) embedded in the printable certificate PDF. Installed once (as root, with apt-get) when missing.
SYSTEM_PACKAGES := chromium chromium-driver fonts-noto-cjk fonts-nanum poppler-utils ffmpeg

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The verifier app's one npm package (jsQR, the camera's fallback QR decoder), from the lockfile.
verifier/node_modules/.package-lock.json: verifier/package.json verifier/package-lock.json
	cd verifier && npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed verifier/node_modules/.package-lock.json

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Please install these Debian packages (as root):$$missing" >&2; exit 1; fi; \
	fi

## Start the API on the embedded SQLite database, with demo data, at http://127.0.0.1:5000
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@# The inbox is filled by the notification worker: fan out events beside the server; the
	@# console's long jobs (bulk confirmations, sheet imports) are run by the jobs worker.
	$(BIN)/flask notifications fan-out & worker=$$!; \
		$(BIN)/flask jobs run & jobs=$$!; trap "kill $$worker $$jobs" EXIT INT TERM; \
		$(BIN)/flask run --host $(HOST) --port $(PORT)

## Run the whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
# pytest-xdist workers, one database each (tests/conftest.py); TEST_WORKERS=0 runs in one process.
# loadgroup keeps the tests of one xdist_group (the browser tests) on one worker.
TEST_WORKERS ?= auto
test: install system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

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
