# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
DEMO_URL ?= http://127.0.0.1:8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/newsletter
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test setup lint serve clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

## demo: set up, load the catalogue and a demo reader, run the recorded day, then serve everything
demo: setup
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) collectstatic --noinput -v0
	$(MANAGE) import_topics digests/catalogue/default_topics.json
	$(MANAGE) import_subscribers devtools/recorded/demo_subscribers.jsonl
	$(MANAGE) run_recorded_day
	@echo
	@echo "  site:   $(DEMO_URL)/   (staff: $(DEMO_URL)/admin/ after 'manage.py createsuperuser')"
	@echo "  outbox: $$($(MANAGE) shell -v0 -c 'from django.conf import settings; print(settings.EMAIL_FILE_PATH)')"
	@echo
	$(MAKE) serve

## serve: web, worker and beat together (Procfile), on the embedded defaults
serve: setup
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) collectstatic --noinput -v0
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

## test: the whole suite against PostgreSQL, a Redis broker with a real worker, and Chromium
## (two pytest-xdist processes; the tests marked `worker` run one after the other in one of them)
test: setup
	bash .ci/ensure-services
	$(MAKE) --no-print-directory lint
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) DATA_DIR=$(CURDIR)/data/test \
		$(VENV)/bin/pytest -v -p no:cacheprovider -n 2 --dist loadgroup

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf data test-artifacts
