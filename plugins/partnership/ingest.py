"""Ingest DAGs, one per registry dataset, built by one factory (not copied per dataset).

find_new_files -> ingest_file (a task group mapped over the files): validate -> load -> mark_done

find_new_files first sweeps the dataset's work/ folder of copies an interrupted run left, then lists the landed
files that are complete (the registry's upload_complete rule).

A file that fails validation is quarantined and its task fails without retries, so the Airflow run shows
which file it was and why; the other files of the run and other datasets' DAGs go on.
Each successful load emits the dataset's raw-table Asset, which schedules the transform DAG.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager

import pendulum
from airflow.sdk import Asset, dag, task, task_group

from partnership.registry import Dataset, load_registry

log = logging.getLogger(__name__)
OWNER = "partnership-data-engineering"
# The retry delay can be shortened for command-line runs (dag.test() waits it out in the foreground).
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": pendulum.duration(seconds=int(os.environ.get("PARTNERSHIP_RETRY_DELAY_SECONDS", "300"))),
}
# Agencies send files on their own cadence; the DAGs look for new ones often (daily files: hourly).
SCHEDULES = {"daily": "@hourly"}


def raw_asset(ds: Dataset) -> Asset:
    return Asset(name=ds.raw_table, uri=f"partnership://warehouse/raw/{ds.name}", group="raw")


def raw_assets() -> list[Asset]:
    return [raw_asset(ds) for ds in load_registry()]


def _loaded_by(context) -> str:
    return f"airflow:{context['dag'].dag_id}/{context['run_id']}"


@contextmanager
def _quarantine_fails_the_task():
    """A quarantined file fails its task at once: retrying cannot make a bad file good."""
    from airflow.sdk.exceptions import AirflowFailException

    from partnership.loader import QuarantinedFile

    try:
        yield
    except QuarantinedFile as exc:
        raise AirflowFailException(str(exc)) from exc


def build_ingest_dag(ds: Dataset):
    @dag(
        dag_id=f"ingest_{ds.name}",
        description=f"{ds.agency}: {ds.description}",
        schedule=SCHEDULES.get(ds.cadence, "@daily"),
        start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
        catchup=False,
        max_active_runs=1,  # two runs of one dataset must not race for the same landed files
        default_args=DEFAULT_ARGS,
        tags=["ingest", ds.agency, f"publication:{ds.publication.aggregates}"],
        doc_md=f"Loads `{ds.landing_subdir}/{ds.landing_pattern}` into `{ds.raw_table}`. "
        f"Lawful basis: {ds.lawful_basis}. Agreement: {ds.sharing_agreement}.",
    )
    def ingest():
        @task
        def find_new_files(**context) -> list[str]:
            from partnership import loader, retention

            try:  # no other run of this dataset is going (max_active_runs=1): whatever is in work/ is stale
                retention.sweep_work(ds, deleted_by=_loaded_by(context))
            except retention.RetentionIncomplete as exc:  # new files still load; retention reports it too
                log.warning("%s", exc)
            return loader.find_new_files(ds)

        # One mapped group per file: a file that fails or is skipped affects only its own validate -> load ->
        # mark_done chain, never the other files of the run.
        @task_group
        def ingest_file(path: str):
            @task
            def validate(path: str, **context) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from partnership import loader

                with _quarantine_fails_the_task():
                    outcome = loader.validate(ds, path, loaded_by=_loaded_by(context))
                if outcome["status"] == "skipped_duplicate":
                    raise AirflowSkipException(f"{outcome['file']} already loaded as batch {outcome['duplicate_of']}")
                return outcome

            @task(outlets=[raw_asset(ds)])
            def load(accepted: dict, **context) -> dict:
                from airflow.sdk.exceptions import AirflowSkipException

                from partnership import loader

                with _quarantine_fails_the_task():
                    loaded = loader.load(ds, accepted, loaded_by=_loaded_by(context))
                if loaded["status"] == "skipped_duplicate":  # another run loaded it first: no new data
                    raise AirflowSkipException(f"{loaded['file']} already loaded as batch {loaded['duplicate_of']}")
                return loaded

            @task
            def mark_done(loaded: dict) -> str:
                from partnership import loader

                return loader.mark_done(ds, loaded)

            mark_done(load(validate(path)))

        ingest_file.expand(path=find_new_files())

    return ingest()


def build_all_ingest_dags() -> dict[str, object]:
    return {f"ingest_{ds.name}": build_ingest_dag(ds) for ds in load_registry()}
