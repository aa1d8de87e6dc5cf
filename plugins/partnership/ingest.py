"""Ingest DAGs, one per registry dataset, built by one factory (not copied per dataset).

find_new_files -> ingest_file (a task group mapped over the files): validate -> load -> all_files_loaded
                                                                   announce_quarantine (only when one failed)

load COPYs the file into its raw table and then files it away in processed/ (``loader.mark_done``): one task,
not two, as each task costs Airflow's own time (a process of its own under a scheduler). A retry after the
COPY committed files the file away and loads nothing (``loader.load`` finds its own earlier batch).

A dataset's ingest runs when the watch_landing DAG announces files in its landing folder (within minutes of a
file arriving), and once a day in any case. find_new_files first checks the configuration (the warehouse answers,
the dataset's pseudonymisation keys are set: a missing one fails the run once, saying what to set), sweeps the
dataset's work/ folder of copies an interrupted run left, then lists the landed files that are complete (the
registry's upload_complete rule).

A file that fails validation is quarantined and its task fails without retries, so the Airflow run shows
which file it was and why, and its people are e-mailed (alerts.py); the other files of the run and other datasets'
DAGs go on. Each successful load emits the dataset's raw-table Asset (settle_deliveries waits for the delivery to
finish, then starts one transform); a quarantine emits the audit Asset, which rebuilds the IG report.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, get_parsing_context, task, task_group
from airflow.sdk.exceptions import AirflowFailException

from partnership.dag_defaults import AUDIT_ASSET, DEFAULT_ARGS, START_DATE, landing_asset, raw_asset
from partnership.registry import Dataset, load_registry

log = logging.getLogger(__name__)
# Mapped tasks are shown by the landed file's name (find_new_files withholds a name that holds an identifier).
BY_FILE_NAME = "{{ landed_file }}"


class QuarantineFailure(AirflowFailException):
    """A file was quarantined: its task fails at once (retrying cannot make a bad file good). The
    :class:`~partnership.loader.QuarantinedFile` it wraps tells the failure alert what to say."""


def _show_as(ds: Dataset, path: str) -> None:
    """What BY_FILE_NAME renders (the UI and the metadata DB: the name only when it is the dataset's usual
    pattern), set in the task's own context (the **context argument is a copy)."""
    from airflow.sdk import get_current_context

    from partnership.screening import shown_file_name

    get_current_context()["landed_file"] = shown_file_name(ds, Path(path).name)


def _loaded_by(context) -> str:
    return f"airflow:{context['dag'].dag_id}/{context['run_id']}"


@contextmanager
def _quarantine_fails_the_task():
    """A quarantined file fails its task at once: retrying cannot make a bad file good."""
    from partnership.loader import QuarantinedFile

    try:
        yield
    except QuarantinedFile as exc:
        raise QuarantineFailure(str(exc)) from exc


def build_ingest_dag(ds: Dataset):
    @dag(
        dag_id=f"ingest_{ds.name}",
        description=f"{ds.agency}: {ds.description}",
        # Within minutes of a file landing (watch_landing), and daily even if the watcher is off.
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable("0 6 * * *", timezone="Europe/London"), assets=landing_asset(ds)
        ),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two runs of one dataset must not race for the same landed files
        # Loads go ahead of a running transform's dbt tasks when executor slots are short.
        default_args={**DEFAULT_ARGS, "priority_weight": 100, "weight_rule": "absolute"},
        tags=["ingest", ds.agency, f"publication:{ds.publication.aggregates}"],
        doc_md=f"Loads `{ds.landing_subdir}/{ds.landing_pattern}` into `{ds.raw_table}`. "
        f"Lawful basis: {ds.lawful_basis}. Agreement: {ds.sharing_agreement}.",
    )
    def ingest():
        @task
        def find_new_files(**context) -> list[str]:
            from partnership import loader, preflight, retention

            preflight.fail_on(preflight.ingest_problems(ds))

            try:  # no other run of this dataset is going (max_active_runs=1): whatever is in work/ is stale
                retention.sweep_work(ds, deleted_by=_loaded_by(context))
            except retention.RetentionIncomplete as exc:  # new files still load; retention reports it too
                log.warning("%s", exc)

            def alert(quarantined: loader.QuarantinedFile) -> None:  # its name held an identifier
                from partnership import alerts

                try:  # the file is in quarantine already: a mail error must not stop the other files
                    alerts.send(
                        alerts.quarantine_alert(ds, quarantined.batch_id, quarantined.file, quarantined.reason), context
                    )
                except Exception as exc:  # noqa: BLE001
                    log.error("could not send the quarantine alert: %s", type(exc).__name__)

            return loader.find_new_files(ds, on_quarantine=alert)

        # The run's last task: it fails the run (upstream_failed) when any file's validate or load failed, as a
        # run with a quarantined file must show. Without it the group's last task, announce_quarantine, which
        # succeeds when it announces a failure, would be the only leaf, and the run would succeed. An empty task:
        # a scheduler marks it done without starting a worker; files skipped as duplicates do not fail it.
        all_files_loaded = EmptyOperator(task_id="all_files_loaded", trigger_rule="none_failed")

        # One mapped group per file: a file that fails or is skipped affects only its own validate -> load
        # chain, never the other files of the run.
        @task_group
        def ingest_file(path: str):
            # multiple_outputs=False: the record is one XCom. Airflow would infer True from `-> dict` and push every
            # field again as an XCom of its own, a request to its API each (about 13 a file).
            @task(multiple_outputs=False, map_index_template=BY_FILE_NAME)
            def validate(path: str, **context) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from partnership import loader

                _show_as(ds, path)
                with _quarantine_fails_the_task():
                    outcome = loader.validate(ds, path, loaded_by=_loaded_by(context))
                if isinstance(outcome, loader.SkippedDuplicate):
                    raise AirflowSkipException(f"{outcome.file} already loaded as batch {outcome.duplicate_of}")
                return outcome.to_xcom()

            @task(outlets=[raw_asset(ds)], multiple_outputs=False, map_index_template=BY_FILE_NAME)
            def load(accepted: dict, **context) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from partnership import loader

                accepted = loader.Accepted.from_xcom(accepted)
                _show_as(ds, str(accepted.landed))
                with _quarantine_fails_the_task():
                    loaded = loader.load(ds, accepted, loaded_by=_loaded_by(context))
                if isinstance(loaded, loader.SkippedDuplicate):  # another run loaded it first: no new data
                    raise AirflowSkipException(f"{loaded.file} already loaded as batch {loaded.duplicate_of}")
                loader.mark_done(ds, loaded)  # filed away, so that the next run does not see it in landing
                return loaded.to_xcom()

            @task(trigger_rule="one_failed", outlets=[AUDIT_ASSET], retries=0)
            def announce_quarantine() -> None:
                """validate or load failed (usually a quarantine): audit changed, so the IG report is rebuilt."""

            accepted = validate(path)
            loaded = load(accepted)
            [accepted, loaded] >> announce_quarantine()
            loaded >> all_files_loaded

        ingest_file.expand(path=find_new_files())

    return ingest()


def build_all_ingest_dags() -> dict[str, object]:
    """Every dataset's ingest DAG, by DAG id; in a task's own process only the DAG it runs.

    A task process parses its DAG's file to find its task, and Airflow names the DAG it wants in the parsing
    context (Airflow's way for a file that makes many DAGs): one DAG, not all of them, about a tenth of a second
    less in each of the many short processes the ingest tasks start. Anything else (the dag-processor, a DAG id
    this file does not make) gets them all."""
    dags = {f"ingest_{ds.name}": ds for ds in load_registry()}
    wanted = get_parsing_context().dag_id
    if wanted in dags:
        dags = {wanted: dags[wanted]}
    return {dag_id: build_ingest_dag(ds) for dag_id, ds in dags.items()}
