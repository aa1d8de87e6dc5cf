"""Ingest DAGs, one per registry dataset, built by one factory (not copied per dataset).

find_new_files -> validate (mapped per file) -> load (mapped) -> mark_done (mapped)

A file that fails validation is quarantined and its ``validate`` task fails without retries, so the
Airflow run shows which file it was and why; the other files of the run and other datasets' DAGs go on.
Each successful load emits the dataset's raw-table Asset, which schedules the transform DAG.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from partnership.registry import Dataset, load_registry

OWNER = "partnership-data-engineering"
DEFAULT_ARGS = {"owner": OWNER, "retries": 2, "retry_delay": pendulum.duration(minutes=5)}
SCHEDULES = {"daily": "@daily", "weekly": "@weekly", "monthly": "@daily"}  # look for monthly files every day


def raw_asset(ds: Dataset) -> Asset:
    return Asset(name=ds.raw_table, uri=f"partnership://warehouse/raw/{ds.name}", group="raw")


def raw_assets() -> list[Asset]:
    return [raw_asset(ds) for ds in load_registry()]


def _loaded_by(context) -> str:
    return f"airflow:{context['dag'].dag_id}/{context['run_id']}"


def build_ingest_dag(ds: Dataset):
    @dag(
        dag_id=f"ingest_{ds.name}",
        description=f"{ds.agency}: {ds.description}",
        schedule=SCHEDULES.get(ds.cadence, "@daily"),
        start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
        catchup=False,
        max_active_runs=1,  # two runs of one dataset must not race for the same landed files
        default_args=DEFAULT_ARGS,
        tags=["ingest", ds.agency, ds.publication],
        doc_md=f"Loads `{ds.landing_subdir}/{ds.landing_pattern}` into `{ds.raw_table}`. "
        f"Lawful basis: {ds.lawful_basis}. Agreement: {ds.sharing_agreement}.",
    )
    def ingest():
        @task
        def find_new_files() -> list[str]:
            from partnership import loader

            return loader.find_new_files(ds)

        @task(retries=0)
        def validate(path: str, **context) -> dict:
            from airflow.exceptions import AirflowFailException, AirflowSkipException

            from partnership import loader

            try:
                outcome = loader.validate(ds, path, loaded_by=_loaded_by(context))
            except loader.QuarantinedFile as exc:
                raise AirflowFailException(str(exc)) from exc
            if outcome["status"] == "skipped_duplicate":
                raise AirflowSkipException(f"{outcome['file']} already loaded as batch {outcome['duplicate_of']}")
            return outcome

        @task(outlets=[raw_asset(ds)])
        def load(accepted: dict, **context) -> dict:
            from partnership import loader

            return loader.load(ds, accepted, loaded_by=_loaded_by(context))

        @task
        def mark_done(loaded: dict) -> str:
            from partnership import loader

            return loader.mark_done(ds, loaded)

        mark_done.expand(loaded=load.expand(accepted=validate.expand(path=find_new_files())))

    return ingest()


def build_all_ingest_dags() -> dict[str, object]:
    return {f"ingest_{ds.name}": build_ingest_dag(ds) for ds in load_registry()}
