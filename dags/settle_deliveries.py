"""Airflow DAG: waits until a delivery's loads are done, then starts one transform (partnership.scheduling)."""

from partnership.scheduling import build_settle_dag

settle_deliveries = build_settle_dag()
