"""The governance DAGs: retention and the IG data-quality report.

governance_retention enforces every dataset's retention period once a day (see :mod:`partnership.retention`).

enforce_retention -> announce_raw_changes, all_deletions_done

When raw rows were deleted, announce_raw_changes emits the raw-table Assets, so the transform DAG rebuilds the
dbt tables (intermediate, marts) without them; when nothing was deleted it is skipped and dbt does not run.
A deletion that failed (one file; the rest were done) fails all_deletions_done, so the run shows it.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAny, dag, task

from partnership.ingest import DEFAULT_ARGS, raw_assets

# Retention connects as WAREHOUSE_URL (the loader's LOGIN role in docker-compose); the IG report through this
# Airflow connection (the IG reviewer's), which reads audit and counts raw values without reading them.
IG_REPORT_CONN_ID = "warehouse_ig_report"


def build_retention_dag():
    @dag(
        dag_id="governance_retention",
        description="Deletes person-level rows and files past each dataset's retention period, with audit.",
        schedule="@daily",
        start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["governance", "retention"],
        doc_md="Retention periods come from the source registry (`retention_months`); every deletion is "
        "recorded in `audit.retention_deletion`. README: Security and retention.",
    )
    def governance_retention():
        @task
        def enforce_retention(**context) -> dict:
            from partnership import retention

            try:
                deleted = retention.enforce_retention(deleted_by=f"airflow:{context['dag'].dag_id}/{context['run_id']}")
                failures = []
            except retention.RetentionIncomplete as exc:  # the rest was done: the rebuild must still happen
                deleted, failures = exc.deletions, [str(f) for f in exc.failures]
            return {"rows_deleted": sum(d.rows or 0 for d in deleted), "failures": failures}

        @task(outlets=raw_assets())
        def announce_raw_changes(outcome: dict) -> None:
            from airflow.sdk.exceptions import AirflowSkipException

            if not outcome["rows_deleted"]:
                raise AirflowSkipException("no raw rows deleted: the dbt models need no rebuild")

        @task
        def all_deletions_done(outcome: dict) -> None:
            from airflow.sdk.exceptions import AirflowFailException

            if outcome["failures"]:
                raise AirflowFailException("retention could not delete: " + "; ".join(outcome["failures"]))

        outcome = enforce_retention()
        announce_raw_changes(outcome)
        all_deletions_done(outcome)

    return governance_retention()


def build_ig_report_dag():
    """The IG data-quality report, rebuilt whenever a raw table changes (a load, or a retention deletion)."""

    @dag(
        dag_id="ig_report",
        description="Writes the information-governance data-quality report (static HTML) after each load.",
        schedule=AssetAny(*raw_assets()),
        start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
        catchup=False,
        max_active_runs=1,  # one writer of the report at a time
        default_args=DEFAULT_ARGS,
        tags=["governance", "report"],
        doc_md="Source register, per-load results, quarantined files, completeness by field, volume and failures "
        "over time. Written to `<data folder>/reports/ig/index.html`. README: The IG data-quality report.",
    )
    def ig_report():
        @task
        def build_report() -> str:
            from partnership import report, warehouse

            return str(report.build_report(warehouse.from_airflow_connection(IG_REPORT_CONN_ID)))

        build_report()

    return ig_report()
