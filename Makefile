# BearSMS Portal — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

.PHONY: run run-prod test test-100k test-fast lint bench screenshots install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes, so a second `make run` starts in seconds.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: web + Celery worker + beat on the embedded defaults (SQLite, filesystem broker, sandbox).
run: install
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

## make run-prod: the production profile (DEBUG=0) on this machine. First the release step, as
## Procfile's `release:` line (migrate + collectstatic), then Procfile's web (gunicorn), worker
## and beat. Needs SECRET_KEY, FIELD_ENCRYPTION_KEY and ALLOWED_HOSTS in the environment or
## .env (README: "Production profile").
run-prod: install
	DEBUG=0 $(PY) manage.py migrate --no-input -v 0
	DEBUG=0 $(PY) manage.py collectstatic --no-input -v 0
	DEBUG=0 PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start web worker beat

## make test: the whole test suite (DATABASE_URL / REDIS_URL are used when set).
# Tests mostly wait on HTTP and the database, so four xdist workers pay off even on two cores.
PYTEST_WORKERS ?= 4
# The 100,000-row bulk send test runs on 10,000 rows here; `make test-100k` runs it in full.
# --maxschedchunk 1: each worker takes one test at a time, so the long tests, collected first
# (tests/conftest.py), spread over the workers instead of queueing on one.
test: install-dev
	BULK_TEST_ROWS=$${BULK_TEST_ROWS:-10000} $(BIN)/pytest -n $(PYTEST_WORKERS) --maxschedchunk 1 --durations=15

## make test-100k: acceptance 4 of sending, a 100,000-row file checked and sent (PostgreSQL).
test-100k: install-dev
	BULK_TEST_ROWS=100000 $(BIN)/pytest tests/messaging/test_bulk_100k.py -s

## make test-fast: the suite without the tests marked `slow` (SIGKILL loop, million-row runs).
test-fast: install-dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) --maxschedchunk 1 -m "not slow" --durations=15

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make bench: the benchmarks in bench/ (figures, not pass/fail).
bench: install-dev
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

## make screenshots: refresh docs/screenshots/ from the demo world (needs Debian's chromium).
screenshots: install-dev
	$(PY) docs/screenshots/take.py

clean:
	rm -rf var/ .pytest_cache
