"""The governance DAGs: retention, the IG data-quality report, and deliveries (late extracts, the daily digest).

governance_retention enforces every dataset's retention period once a day (see :mod:`partnership.retention`).

enforce_retention -> announce_raw_changes, all_deletions_done

When raw rows were deleted, announce_raw_changes emits the raw-table Assets, so the transform DAG rebuilds the
dbt tables (intermediate, marts) without them; when nothing was deleted it is skipped and dbt does not run.
A deletion that failed (one file; the rest were done) fails all_deletions_done, so the run shows it.
"""

from __future__ import annotations

from datetime import date, timedelta

from airflow.sdk import AssetAny, CronTriggerTimetable, dag, task

from partnership.dag_defaults import AUDIT_ASSET, DEFAULT_ARGS, SETTLED_ASSET, START_DATE, raw_assets

# Retention connects as WAREHOUSE_URL (the loader's LOGIN role in docker-compose); the IG report through this
# Airflow connection (the IG reviewer's), which reads audit and counts raw values without reading them.
IG_REPORT_CONN_ID = "warehouse_ig_report"


def build_retention_dag():
    @dag(
        dag_id="governance_retention",
        description="Deletes person-level rows and files past each dataset's retention period, with audit.",
        schedule="@daily",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["governance", "retention"],
        doc_md="Retention periods come from the source registry (`retention_months`); every deletion is "
        "recorded in `audit.retention_deletion`. docs/governing.md: Retention.",
    )
    def governance_retention():
        @task(multiple_outputs=False)  # one XCom, not one more per field (inferred from `-> dict`)
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
    """The IG data-quality report, rebuilt when a delivery's loads are done (or rows were deleted by retention),
    and at once when a file is quarantined."""

    @dag(
        dag_id="ig_report",
        description="Writes the information-governance data-quality report (static HTML) after each load.",
        schedule=AssetAny(SETTLED_ASSET, AUDIT_ASSET),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # one writer of the report at a time
        default_args=DEFAULT_ARGS,
        tags=["governance", "report"],
        doc_md="Source register, per-load results, quarantined files, completeness by field, volume and failures "
        "over time, record linkage and its quality against a truth sample when there is one. Written to "
        "`<data folder>/reports/ig/index.html`. docs/governing.md: The IG data-quality report.",
    )
    def ig_report():
        @task
        def assess_linkage() -> str:
            """Linkage quality against the truth sample, when there is one (partnership.linkage.quality): read
            as the loader, the only role that reads the linkage index; the figures go to audit for the report."""
            from airflow.sdk.exceptions import AirflowSkipException

            from partnership import settings, warehouse
            from partnership.linkage import quality

            folder = settings.linkage_truth_dir()
            if not folder.is_dir():
                raise AirflowSkipException(f"no linkage truth sample in {folder}")
            with warehouse.connect() as conn:
                assessed = quality.assess(conn, folder)
            if assessed is None:
                raise AirflowSkipException("no record of the linkage truth sample is loaded yet")
            q = assessed.cross_agency
            return f"cross-agency precision {q.precision:.4f}, recall {q.recall:.4f}; {len(assessed.warnings)} warnings"

        # The report is written even when the assessment failed (it shows the last one kept, with its date); the
        # failed task shows in the run.
        @task(trigger_rule="all_done")
        def build_report() -> str:
            from partnership import report, warehouse

            return str(report.build_report(warehouse.from_airflow_connection(IG_REPORT_CONN_ID)))

        assess_linkage() >> build_report()

    return ig_report()


def build_deliveries_dag():
    """Late and missing extracts, against each dataset's delivery calendar, and the daily digest."""

    @dag(
        dag_id="deliveries",
        description="Records and alerts late or missing extracts (once per missed delivery); sends the daily digest.",
        schedule=CronTriggerTimetable("0 7 * * *", timezone="Europe/London"),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["governance", "alerts"],
        doc_md="Delivery calendars come from the source registry (`delivery`); each missed delivery is recorded "
        "once in `audit.late_delivery` and e-mailed to the dataset's `alert_recipients` (docs/operating.md).",
    )
    def deliveries():
        @task
        def alert_late_deliveries(**context) -> list[str]:
            from partnership import alerts, timeliness, warehouse
            from partnership.registry import get_dataset

            today = _run_day(context)
            # Recorded and alerted in one transaction: if an alert cannot be sent (the mail server is down), the
            # record is rolled back and the task's retry (or the next day's run) sends it, rather than the missed
            # delivery being recorded as alerted when nobody was told.
            with warehouse.connect() as conn:
                newly_late = timeliness.record_late(conn, today)
                by_dataset: dict[str, list] = {}
                for late in newly_late:
                    by_dataset.setdefault(late.dataset, []).append(late)
                for name, missing in sorted(by_dataset.items()):
                    alerts.send(alerts.late_alert(get_dataset(name), missing), context)
            return [f"{late.dataset} {late.period.label}" for late in newly_late]

        @task
        def send_daily_digest(**context) -> str:
            from partnership import alerts, warehouse

            until = _run_time(context)
            with warehouse.connect() as conn:
                digest = alerts.digest_alert(conn, until - timedelta(days=1), until)
            alerts.send(digest, context)
            return digest.subject

        alert_late_deliveries() >> send_daily_digest()

    return deliveries()


def _run_time(context):
    """When a run stands for: its data interval's end (a scheduled run: 07:00 that day); a manual run, the time it
    was triggered for (an Airflow 3 manual run may have no logical date: then when it was due to run)."""
    import pendulum

    dag_run = context.get("dag_run")
    when = (
        context.get("data_interval_end")
        or context.get("logical_date")
        or getattr(dag_run, "run_after", None)
        or pendulum.now("UTC")
    )
    return pendulum.instance(when)


def _run_day(context) -> date:
    """The day a run stands for, in London (a manual run: the day it was triggered for)."""
    return _run_time(context).in_timezone("Europe/London").date()
