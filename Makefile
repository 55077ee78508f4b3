# The front door for people: run, test, lint.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test lint format clean

# The virtual environment, rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

## run: upgrade the database schema and serve on http://$(HOST):$(PORT) with gunicorn
run: $(VENV)/.installed
	$(VENV)/bin/microblog db upgrade
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

## test: the whole suite, on SQLite and PostgreSQL
test: $(VENV)/.installed-dev
	$(VENV)/bin/pytest

## lint: formatting, lint rules and types
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format --check microblog tests
	$(VENV)/bin/ruff check microblog tests
	$(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format microblog tests
	$(VENV)/bin/ruff check --fix microblog tests

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
