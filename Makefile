# The front door for people: run, test, lint.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run test lint format clean catalogs browser bench nginx cluster cluster-stop cluster-status

# `make cluster`: N app servers behind nginx on CLUSTER_PORT (see docs/deployment.md).
CLUSTER_APPS ?= 2
CLUSTER_PORT ?= 8080
CLUSTER_RUN_DIR ?= instance/cluster

# The virtual environment, rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

## catalogs: compile the translations (.po, kept in git) into .mo files (built, not kept)
catalogs: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -d microblog/translations --statistics 2>&1 | tail -n 1

## catalogs-update: gather the messages to translate into the catalogs (.po), from the code's
## _() and gettext() (the defaults), _l() (lazy_gettext) and N_() (the domain's messages);
## new ones arrive untranslated, changed ones fuzzy, and tests/test_catalog.py fails on both
.PHONY: catalogs-update
catalogs-update: $(VENV)/.installed
	pot=$$(mktemp --suffix=.pot) && trap 'rm -f "$$pot"' EXIT && \
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k N_ -o "$$pot" . && \
	$(VENV)/bin/pybabel update --ignore-obsolete -i "$$pot" -d microblog/translations

## run: upgrade the database schema and serve on http://$(HOST):$(PORT) with gunicorn
run: $(VENV)/.installed catalogs
	$(VENV)/bin/microblog db upgrade
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

## browser: Debian's Chromium for the end-to-end tests (installed when missing and root)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "chromium is not installed: the browser tests will be skipped"; fi; }

## nginx: Debian's nginx for `make cluster` and its test (installed when missing and root)
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light \
	      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }) >/dev/null; \
	  else echo "nginx is not installed: the cluster tests will be skipped"; fi; }

## cluster: PostgreSQL + Redis, CLUSTER_APPS app servers, an RQ worker, nginx on CLUSTER_PORT
cluster: $(VENV)/.installed catalogs nginx
	VENV=$(VENV) scripts/cluster start --apps $(CLUSTER_APPS) --port $(CLUSTER_PORT) --run-dir $(CLUSTER_RUN_DIR)

## cluster-stop: stop what `make cluster` started (never PostgreSQL or Redis)
cluster-stop:
	VENV=$(VENV) scripts/cluster stop --run-dir $(CLUSTER_RUN_DIR)

cluster-status:
	VENV=$(VENV) scripts/cluster status --run-dir $(CLUSTER_RUN_DIR)

## test: the whole suite, on SQLite and PostgreSQL, with the browser tests in Chromium
test: $(VENV)/.installed-dev catalogs browser nginx
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

## bench: seed PostgreSQL, load every endpoint with wrk, compare with the /api/ping ceiling
## (writes bench/results/<date>T<time>.json and .png; `.venv/bin/python -m bench.run --help`)
bench: $(VENV)/.installed-dev catalogs
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null; }
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

