"""What every DAG of the project shares: its owner, start date, retries and failure alert, and the Assets that
connect the DAGs (a landed file starts its dataset's ingest; loads, once settled, start the transform; a
quarantine rebuilds the IG report; a new publish schema rebuilds the Board's report)."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset

from partnership.alerts import FailureNotifier
from partnership.registry import Dataset, load_registry

OWNER = "partnership-data-engineering"
START_DATE = pendulum.datetime(2024, 1, 1, tz="Europe/London")
# The retry delay can be shortened for command-line runs (dag.test() waits it out in the foreground).
DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": pendulum.duration(seconds=int(os.environ.get("PARTNERSHIP_RETRY_DELAY_SECONDS", "300"))),
    # Called once a task has failed for good (not on a retry): a quarantine or a failure, to people (alerts.py).
    "on_failure_callback": FailureNotifier(),
}
# The tag of a DAG that only relays Assets for an unattended scheduler (watch_landing, settle_deliveries):
# `partnership run` runs the DAGs one after another in the order their Assets give (runner.run_order), so it
# leaves these out.
RELAY_TAG = "schedule"


def raw_asset(ds: Dataset) -> Asset:
    """A raw table changed: a load, or retention deleted rows."""
    return Asset(name=ds.raw_table, uri=f"partnership://warehouse/raw/{ds.name}", group="raw")


def raw_assets() -> list[Asset]:
    return [raw_asset(ds) for ds in load_registry()]


def landing_asset(ds: Dataset) -> Asset:
    """Files of the dataset wait in its landing folder (announced by the watch_landing DAG)."""
    return Asset(name=f"landing/{ds.name}", uri=f"partnership://landing/{ds.name}", group="landing")


# Audit changed without raw data changing: a file was quarantined.
AUDIT_ASSET = Asset(name="audit.load_batch", uri="partnership://warehouse/audit/load_batch", group="audit")
# The loads of a delivery are all done (settle_deliveries): one transform for the lot.
SETTLED_ASSET = Asset(name="raw settled", uri="partnership://warehouse/raw-settled", group="raw")
# The transform replaced the publish schema (partnership.publish): the Board's report is built again.
PUBLISH_ASSET = Asset(name="publish", uri="partnership://warehouse/publish", group="publish")
