# syntax=docker/dockerfile:1
#
# Airflow image for the Partnership Warehouse: the official Airflow 3.3 image (which already
# bundles the celery, redis, fab and postgres providers) plus this project and its
# dependencies (dbt-core/dbt-postgres, astronomer-cosmos, great-expectations, ...),
# pinned to the versions in uv.lock.
#
# The live code (dags/, plugins/, dbt/, expectations/) is bind-mounted by docker-compose.yml
# and wins over the installed copy because /opt/airflow/plugins is first on PYTHONPATH;
# installing the package here gives the image its dependencies and the `partnership` CLI.
#
#   docker compose build
#
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${AIRFLOW_IMAGE}

# Headless Chromium prints the Board's report to PDF (partnership.chromium finds /usr/bin/chromium).
USER root
RUN apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
USER airflow

# A uv recent enough to read uv.lock (lock revision 5); the image's own uv may be older.
COPY --from=uv /uv /usr/local/bin/uv-project

COPY --chown=airflow:0 pyproject.toml uv.lock README.md /opt/partnership/src/
COPY --chown=airflow:0 plugins/partnership /opt/partnership/src/plugins/partnership

# uv.lock is used as a constraints file: every package the project needs gets the locked
# version, Airflow stays at the image's version (the build fails loudly if the lock disagrees),
# and the providers the image bundles for CeleryExecutor/FAB are kept.
RUN uv-project export --frozen --no-dev --no-emit-project --no-hashes \
        --directory /opt/partnership/src --output-file /tmp/uv-lock-constraints.txt \
    && uv-project pip install --no-cache \
        --constraint /tmp/uv-lock-constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" \
        /opt/partnership/src \
    && rm -f /tmp/uv-lock-constraints.txt \
    && partnership --help > /dev/null
