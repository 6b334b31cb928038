# Vigia: `make run` starts a demo on a laptop; `make test` runs the suite on PostgreSQL + Redis.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/vigia
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: install lock run test test-slow test-all lint bench clean

install: $(VENV)/.installed

# constraints.txt pins every package to the version the suite last passed with, so two
# installs a month apart get the same libraries.
# Quiet: pip says nothing unless something fails (-qq; its errors still show). --no-compile:
# pip would byte-compile every installed module (1.8 GB of packages, minutes of CPU); Python
# compiles the few it imports on first use instead. The venv's own pip (>= 21.3 for editable
# installs from pyproject.toml, Python 3.11 ships 22.3+) is used as it is.
PIP := $(PY) -m pip install -qq --disable-pip-version-check --no-compile
$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "Installing Vigia and its dependencies into $(VENV) (once; pip's cache makes it faster)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# Pinned CPU torch first: an unpinned torch would pull gigabytes of CUDA packages.
	@$(PIP) torch==2.13.0 -c constraints.txt
	@$(PIP) -e '.[dev]' -c constraints.txt
	@touch $@

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

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) scripts/check_services.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

test-slow: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest -m slow $(PYTEST_ARGS)

test-all: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
		$(PY) -m pytest -m '' $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf var/ .pytest_cache
