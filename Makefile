# Developer and CI entry points; `make` alone lists the targets.
#   make run    serve the portal at http://127.0.0.1:8000 (SQLite and files under var/)
#   make test   lint, then run the whole suite on throwaway PostgreSQL and Redis, then the
#               storage tests again on a throwaway S3 server (make test-s3)
#   make drills fault drills on throwaway services (a few minutes)
#   make bench  load benchmark: gunicorn + wrk on throwaway PostgreSQL and Redis (~10 min)

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

VENV := .venv
PY := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check --no-input --require-hashes

# Static checks, run by `make lint` and before the suite by `make test`: style, the floors of
# the code (import-linter reads .importlinter; README, "Layout") and the types (mypy reads
# pyproject.toml; the django-stubs plugin loads the development settings, which need no secret).
CHECKS = $(RUFF) check . && $(RUFF) format --check . && $(VENV)/bin/lint-imports --no-cache && \
	DMP_ENV=development $(VENV)/bin/mypy .

# The .mo files are not committed: compile them when the project has translations.
COMPILEMESSAGES := if [ -d locale ]; then $(PY) manage.py compilemessages --ignore=$(VENV); fi

.DEFAULT_GOAL := help
.PHONY: help run test test-s3 drills bench lint format lock clean

help: ## List the targets
	@echo "Targets:"
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'
	@echo "Variables: PORT (run, default 8000), PYTEST_ARGS (test), S3_TESTS (test, test-s3), BENCH_ARGS (bench), PYTHON (creates .venv)"

# --- Virtual environment: created once, reinstalled only when a lock file changes --------------

$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Could not create $(VENV): on Debian, apt-get install python3-venv" >&2; exit 1; }

$(VENV)/.installed-base: requirements/base.txt | $(PY)
	$(PIP_INSTALL) -r requirements/base.txt
	touch $@

$(VENV)/.installed-test: requirements/test.txt | $(PY)
	$(PIP_INSTALL) -r requirements/test.txt
	touch $@

# axe-core, injected into the browser by the accessibility checks (tests/e2e): exactly the
# version and checksum that package-lock.json pins, scripts off.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make test needs npm (Debian: apt-get install npm)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# --- Targets ---------------------------------------------------------------------------------

# The portal's address goes to var/site-url (or DMP_VAR_DIR's), read by the settings of every
# development process: commands run from another shell then e-mail links to this port.
run: $(VENV)/.installed-base ## Serve the portal on 127.0.0.1:PORT with the demo data
	mkdir -p var "$${DMP_VAR_DIR:-var}"
	echo "http://127.0.0.1:$(PORT)" > "$${DMP_VAR_DIR:-var}/site-url"
	$(COMPILEMESSAGES)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The storage tests, run a second time on S3 (README « Object storage in the tests »): the
# tests whose subject is a stored file (upload, download, versions, letters' PDFs and their
# export, purge, backups' view of the files, the readiness probe), not every test that stores
# a document on the way. scripts/testenv.py starts SeaweedFS on loopback for them.
S3_TESTS ?= tests/records tests/letters tests/enrollment tests/crypto \
	tests/access_control/test_purge.py tests/access_control/test_purge_acceptance.py \
	tests/access_control/test_closure.py tests/demo/test_bulk_seed.py tests/test_healthz_ready.py \
	tests/test_storage_settings.py tests/test_door_acceptance.py tests/test_backups.py
# S3_TESTS= (empty) leaves the S3 pass out of `make test`, e.g. with PYTEST_ARGS for a few tests.
S3_PASS = $(if $(strip $(S3_TESTS)),DMP_TEST_STORAGE=s3 $(PY) scripts/testenv.py -- $(PY) -m pytest \
	$(S3_TESTS),@echo "make test: S3_TESTS is empty, no S3 pass")

test: $(VENV)/.installed-test node_modules/.installed ## Lint, then run the suite (browser included) on throwaway PostgreSQL and Redis, then the storage tests on S3
	$(COMPILEMESSAGES)
	$(CHECKS)
	$(PY) scripts/testenv.py -- $(PY) -m pytest $(PYTEST_ARGS) || { status=$$?; \
		[ $$status -ne 5 ] || echo "make test: pytest collected no tests (exit 5)" >&2; \
		exit $$status; }
	@echo "make test: the storage tests again, on S3 (make test-s3)"
	$(S3_PASS)

test-s3: $(VENV)/.installed-test ## The storage tests only, on a throwaway S3 server (SeaweedFS)
	$(COMPILEMESSAGES)
	$(S3_PASS)

# The fault drills (tests/drills/, README « Fault drills »): each injects one fault into real
# services on loopback and prints what it injected and what it verified.
# The drills whose subject is the storage run a second time on S3 (SeaweedFS).
S3_DRILLS := tests/drills/test_storage_unreachable.py tests/drills/test_backup_restore.py
drills: $(VENV)/.installed-test ## Fault drills: kill, stop and fill the services, then check nothing was lost
	$(COMPILEMESSAGES)
	$(PY) scripts/testenv.py -- $(PY) -m pytest -p no:cacheprovider -s -v --drills tests/drills
	@echo "make drills: the storage drills again, on S3"
	DMP_TEST_STORAGE=s3 $(PY) scripts/testenv.py -- $(PY) -m pytest -p no:cacheprovider -s -v \
		--drills $(S3_DRILLS)

bench: $(VENV)/.installed-test ## Load benchmark (gunicorn, wrk, PostgreSQL, Redis); prints the table
	@command -v wrk >/dev/null || [ "$$(id -u)" -ne 0 ] || { echo "installing wrk (running as root)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@command -v wrk >/dev/null || { echo "make bench needs wrk: sudo apt-get install wrk" >&2; exit 1; }
	$(COMPILEMESSAGES)
	$(PY) scripts/testenv.py -- $(PY) bench/load.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test ## Check the code: ruff, the floors (import-linter) and the types (mypy)
	$(CHECKS)

format: $(VENV)/.installed-test ## Sort the imports and format the code with ruff
	$(RUFF) check --select I --fix .
	$(RUFF) format .

lock: ## Recompile requirements/*.txt from pyproject.toml (needs uv)
	@command -v uv >/dev/null || { \
		echo "make lock needs uv: install it with 'pipx install uv' or 'pip install uv'" >&2; \
		exit 1; }
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" -o requirements/base.txt
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes --extra test \
		--custom-compile-command "make lock" -o requirements/test.txt

clean: ## Remove var/ (database, keys, uploads, mail), .venv, node_modules and test artifacts
	rm -rf var $(VENV) .pytest_cache .ruff_cache .mypy_cache node_modules test-artifacts
