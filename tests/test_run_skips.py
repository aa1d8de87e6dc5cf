"""`partnership run` skips a dataset's ingest DAG, before Airflow runs it, when its landing folder holds no file
that the DAG would take; it runs it whenever one waits (a duplicate by checksum too: the run records it as
skipped_duplicate and files it away), or when work/ holds a copy an interrupted run left (the run sweeps it).
No Airflow run here: the DAGs are stand-ins and running one is recorded."""

from __future__ import annotations

import os
import time

import pytest
from conftest import land_header_only

from partnership import cli_run, landing, runner, settings
from partnership.registry import get_dataset

CRIMES = "police__recorded_crime"
STOP_SEARCH = "police__stop_search"


def _why(dataset: str) -> str | None:
    return cli_run._why_skipped(
        f"ingest_{dataset}", "unused: an ingest's skip reads no database", rebuild=False, built=False
    )


def test_an_ingest_with_nothing_landed_is_skipped(data_dir, crimes):
    why = _why(CRIMES)
    assert why is not None and why.startswith("no file waits in landing/police/recorded_crime")
    assert "still being uploaded" not in why


def test_an_ingest_with_a_file_waiting_is_not_skipped(data_dir, crimes):
    land_header_only(crimes, "recorded_crime_2024-04.csv")
    assert landing.awaiting_files(crimes)
    assert _why(CRIMES) is None


def test_a_file_still_being_uploaded_is_waited_for_and_said(data_dir, crimes):
    land_header_only(crimes, "recorded_crime_2024-04.csv", marker=False)  # no marker, changed just now: not complete
    assert _why(CRIMES) == "no file waits in landing/police/recorded_crime (1 still being uploaded)"

    path = land_header_only(crimes, "recorded_crime_2024-05.csv", marker=False)
    quiet = time.time() - crimes.upload_complete.quiet_seconds - 60
    os.utime(path, (quiet, quiet))  # quiet long enough: complete
    assert _why(CRIMES) is None


def test_an_ingest_whose_work_folder_holds_a_stale_copy_is_not_skipped(data_dir, crimes):
    stale = settings.work_dir() / crimes.landing_subdir / "recorded_crime_2024-04.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("left by an interrupted run\n")
    assert _why(CRIMES) is None


def test_run_dags_runs_only_the_ingest_with_a_file_waiting(data_dir, crimes, monkeypatch, capsys):
    land_header_only(crimes, "recorded_crime_2024-04.csv")
    dags = {f"ingest_{CRIMES}": object(), f"ingest_{STOP_SEARCH}": object()}
    ran = []
    monkeypatch.setattr(runner, "load_dags", lambda: dags)
    monkeypatch.setattr(runner, "run_order", lambda d: sorted(d))
    monkeypatch.setattr(runner, "run_dag", lambda dag: ran.append(dag) or "success")

    failed, built = cli_run.run_dags(dags, runner.run_order(dags), "unused", rebuild=False)

    assert (failed, built) == ([], False)
    assert ran == [dags[f"ingest_{CRIMES}"]]
    out = capsys.readouterr().out
    assert f"ingest_{CRIMES}: success" in out
    folder = get_dataset(STOP_SEARCH).landing_subdir
    assert f"ingest_{STOP_SEARCH}: skipped, no file waits in landing/{folder}" in out


@pytest.mark.parametrize("dag_id", ["ig_report", "ingest_not_a_registry_dataset"])
def test_other_dags_are_not_skipped_for_landing(data_dir, dag_id):
    assert cli_run._why_skipped(dag_id, "unused", rebuild=False, built=False) is None
