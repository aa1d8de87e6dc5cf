"""Airflow DAG: the IG data-quality report (static HTML), rebuilt after each settled delivery or quarantine."""

from partnership.governance import build_ig_report_dag

ig_report = build_ig_report_dag()
