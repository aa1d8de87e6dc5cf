"""Airflow DAG: dbt models (staging, intermediate, marts) run by cosmos once a delivery's loads are done."""

from partnership.transform import build_transform_dag

transform_warehouse = build_transform_dag()
