# OIMS — two commands: `make run` and `make test` (see README.md).
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test test-quick venv deps deps-dev i18n db demo serve lint clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
deps-dev: $(VENV)/.deps-dev

i18n: deps
	$(BIN)/python -m oims.i18n_tool build

db: deps i18n
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask oims demo

## make run: install, migrate, load the demo data, serve on http://127.0.0.1:5000
run: demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## make test: install (with test requirements) and run the whole suite on two workers
## (each file stays on one worker: the browser journey is ordered)
test: deps-dev
	$(BIN)/python -m oims.i18n_tool build
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## make test-quick: the inner loop — everything but real models, servers and browsers, on 2 processes
test-quick: deps-dev
	$(BIN)/python -m oims.i18n_tool build
	$(BIN)/python -m pytest -m "not slow" -n 2 -q $(PYTEST_ARGS)

## production-like server (see README: Deployment)
serve: db
	$(BIN)/gunicorn --workers 3 --bind 127.0.0.1:8000 wsgi:app

## make lint: ruff as configured in pyproject.toml (CI runs it before the tests)
lint: deps-dev
	$(BIN)/ruff check oims matching tests bench

clean:
	rm -rf $(VENV) .pytest_cache
