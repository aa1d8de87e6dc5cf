# Two commands do everything on a fresh machine with Python 3.11:  make run  and  make test.
# uv is installed into .tools/ (no system changes); the project's venv is .venv/, pinned by uv.lock.

PYTHON ?= python3.11
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run test test-fast install lint clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.9"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

install: .venv/.synced

## The whole pipeline on generated data, through the real Airflow DAGs (embedded PostgreSQL unless WAREHOUSE_URL is set).
run: install
	$(UV) run --frozen --no-sync partnership run

## Every test: fast unit tests and the integration tests (PostgreSQL, Airflow dag.test(), dbt, GX).
test: install
	$(UV) run --frozen --no-sync pytest

## Unit tests only.
test-fast: install
	$(UV) run --frozen --no-sync pytest -m "not integration"

lint: install
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .

clean:
	-$(UV) run --frozen --no-sync partnership warehouse stop
	rm -rf .partnership dbt/target dbt/logs
