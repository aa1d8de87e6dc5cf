# Two commands do everything on a fresh machine with Python 3.11:  make run  and  make test.
# uv is installed into .tools/ (no system changes); the project's venv is .venv/, pinned by uv.lock.

PYTHON ?= python3.11
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run test test-fast install lint clean chromium

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.9"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

install: .venv/.synced

## The whole pipeline on generated data, through the real Airflow DAGs (embedded PostgreSQL unless WAREHOUSE_URL is set).
run: chromium install
	$(UV) run --frozen --no-sync partnership run

## Every test: fast unit tests and the integration tests (PostgreSQL, Airflow dag.test(), dbt, GX, Chromium).
test: chromium install
	$(UV) run --frozen --no-sync pytest

## Debian's chromium: prints the Board's report to PDF, and renders the reports in the tests; installed only when missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium package (the Board's report PDF and the report tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	  else echo "chromium is missing and cannot be installed: not root and no sudo; install Debian's chromium package" >&2; exit 1; fi; \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || exit 1; \
	fi
	@test -x /usr/bin/chromium || { echo "chromium install failed: /usr/bin/chromium is missing" >&2; exit 1; }

## Unit tests only.
test-fast: install
	$(UV) run --frozen --no-sync pytest -m "not integration"

lint: install
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .

clean:
	-$(UV) run --frozen --no-sync partnership warehouse stop
	rm -rf .partnership dbt/target dbt/logs
