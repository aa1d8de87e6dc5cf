"""Airflow DAG: late or missing extracts against each delivery calendar, and the daily digest (alerts)."""

from partnership.governance import build_deliveries_dag

deliveries = build_deliveries_dag()
