"""Airflow DAG: dbt models (staging, intermediate, marts) run by cosmos after any raw table is loaded."""

from partnership.transform import build_transform_dag

transform_warehouse = build_transform_dag()
