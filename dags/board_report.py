"""Airflow DAG: the Board's quarterly report (HTML and PDF), rebuilt after each transform."""

from partnership.board_report.dag import build_board_report_dag

board_report = build_board_report_dag()
