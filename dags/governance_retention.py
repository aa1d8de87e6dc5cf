"""Airflow DAG: daily retention enforcement (deletes expired person-level rows and files, with an audit record)."""

from partnership.governance import build_retention_dag

governance_retention = build_retention_dag()
