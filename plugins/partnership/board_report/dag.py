"""The board_report DAG: the Board's quarterly report, built again whenever the transform replaces the publish
schema. Cheap to parse: the report's code is imported inside the task."""

from __future__ import annotations

from airflow.sdk import dag, task

from partnership.dag_defaults import DEFAULT_ARGS, PUBLISH_ASSET, START_DATE

BOARD_REPORT_CONN_ID = "warehouse_board_report"


def build_board_report_dag():
    @dag(
        dag_id="board_report",
        description="Writes the Board's quarterly report (HTML and PDF) from the publish schema after each transform.",
        schedule=PUBLISH_ASSET,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # one writer of the report at a time
        default_args=DEFAULT_ARGS,
        tags=["report", "board"],
        doc_md="The latest quarter's report: scorecard, one section per priority (trend charts, ward maps), a "
        "data-quality annex. Reads the publish schema only, as `pw_board_reporter`. Written to "
        "`<data folder>/reports/board/<quarter>/` (index.html, board_report.pdf); see docs/querying.md. "
        "For another quarter: `partnership board-report --quarter 2024/25-Q3`.",
    )
    def board_report():
        @task
        def build_report() -> dict[str, str]:
            from partnership import warehouse
            from partnership.board_report import build

            report = build.build(warehouse.from_airflow_connection(BOARD_REPORT_CONN_ID))
            return {"quarter": report.quarter.label, **{kind: str(path) for kind, path in report.files.items()}}

        build_report()

    return board_report()
