"""Airflow DAGs: one ingest DAG per dataset in the source registry (plugins/partnership/registry/)."""

from partnership.ingest import build_all_ingest_dags

globals().update(build_all_ingest_dags())
