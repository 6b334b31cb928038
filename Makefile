# Vigia: `make run` starts a demo on a laptop; `make test` runs the suite on PostgreSQL + Redis.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/vigia
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: install install-dev lock run test test-slow test-all lint bench clean

# `make install`: what `make run` needs; `make install-dev`: that plus the test and lint tools
# (the `dev` extra), for `make test` and `make lint`. scripts/install.py creates the venv and
# installs the versions constraints.txt pins (torch is the CPU build) with uv, handing it pip's
# own settings, or with pip when uv fails; it prints nothing more unless something fails.
install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

INSTALLER := pyproject.toml constraints.txt scripts/install.py
$(VENV)/.installed: $(INSTALLER)
	@$(PYTHON) scripts/install.py --venv $(VENV)
	@touch $@

$(VENV)/.installed-dev: $(INSTALLER)
	@$(PYTHON) scripts/install.py --venv $(VENV) --dev
	@touch $@ $(VENV)/.installed

# Rewrite constraints.txt from the installed venv (after a dependency change and a green suite).
lock:
	{ head -n 2 constraints.txt; $(PY) -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# The demo: debug stays off (no traceback pages); VIGIA_DEMO lets it keep a generated secret
# key under var/ instead of requiring VIGIA_SECRET_KEY. `serve --demo` migrates, creates the
# demo (its first model trains in the background), starts the web server and a worker, and
# prints one screen; the processes' logs go to var/log/.
run: install
	@VIGIA_DEMO=true PORT=$(PORT) $(PY) manage.py serve --demo

test: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) scripts/check_services.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

test-slow: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest -m slow $(PYTEST_ARGS)

test-all: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest -m '' $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf var/ .pytest_cache
