"""Airflow DAG: announces landed files to their ingest DAGs within minutes (partnership.scheduling)."""

from partnership.scheduling import build_watch_dag

watch_landing = build_watch_dag()
