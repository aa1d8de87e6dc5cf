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
    monkeypatch.setattr(runner, "run_dag", lambda dag, conf=None: ran.append(dag) or "success")

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


@pytest.fixture
def side_by_side_stand_ins(monkeypatch):
    """run_dags with its DAGs run side by side by stand-ins: a DAG ending in "_linked" links people, nothing is
    skipped, and a recording WarmUp. Returns the list of events (DAGs run, warm-up started and joined)."""
    events = []

    class WarmUp:
        def __init__(self):
            events.append("warm-up started")

        def join(self):
            events.append("warm-up joined")

    monkeypatch.setattr(runner, "WarmUp", WarmUp)
    monkeypatch.setattr(runner, "sync_dags_to_metadata_db", lambda: None)
    monkeypatch.setattr(runner, "run_dag", lambda dag, conf=None: events.append(dag) or "success")
    monkeypatch.setattr(cli_run, "_why_skipped", lambda *a, **k: None)
    monkeypatch.setattr(cli_run, "_links_people", lambda dag_id: dag_id.endswith("_linked"))
    monkeypatch.setattr(cli_run, "_landed_bytes", lambda dag_id: 0)
    monkeypatch.setattr(cli_run.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    return events


@pytest.mark.parametrize(
    "finishing, warmed_after",
    [
        (["ingest_a_linked", "ingest_x", "ingest_b_linked", "ingest_y", "ingest_c_linked"], 4),
        (["ingest_x", "ingest_y", "ingest_a_linked", "ingest_b_linked", "ingest_c_linked"], 2),
        (["ingest_a_linked", "ingest_b_linked", "ingest_c_linked", "ingest_x", "ingest_y"], 5),
    ],
    ids=["others finish between", "others finish first", "others finish last"],
)
def test_the_run_warms_up_for_the_transform_only_once_a_core_is_free_and_before_it(
    monkeypatch, side_by_side_stand_ins, finishing, warmed_after
):
    """While DAGs run side by side in worker processes, `partnership run` warms itself up for the DAGs it runs
    next (runner.WarmUp) once only the DAGs that link people are left (they run one at a time: a core is free),
    and waits for the warm-up to end before it runs another DAG."""
    events = side_by_side_stand_ins

    def side_by_side(dags, dag_ids, processes, *, in_turn, before_running_here):
        assert in_turn == {d for d in dag_ids if d.endswith("_linked")}
        for dag_id in finishing:
            events.append(dag_id)
            yield dag_id, "success", 1.0

    monkeypatch.setattr(runner, "run_side_by_side", side_by_side)
    dags = {d: d for d in [*finishing, "transform_warehouse"]}
    groups = [sorted(finishing), ["transform_warehouse"]]
    monkeypatch.setattr(runner, "side_by_side_groups", lambda d, order: groups)

    failed, built = cli_run.run_dags(dags, list(dags), "unused", rebuild=False, side_by_side=True)

    assert (failed, built) == ([], True)
    assert events[: events.index("transform_warehouse") + 1] == [
        *finishing[:warmed_after],
        "warm-up started",
        *finishing[warmed_after:],
        "warm-up joined",
        "transform_warehouse",
    ]


def test_the_warm_up_is_joined_before_dags_a_broken_pool_left_run_in_this_process(monkeypatch, side_by_side_stand_ins):
    """If the worker processes stop, the DAGs they left run here, one at a time: after the warm-up ends."""
    events = side_by_side_stand_ins

    def side_by_side(dags, dag_ids, processes, *, in_turn, before_running_here):
        events.append("ingest_x")
        yield "ingest_x", "success", 1.0
        before_running_here()  # the pool broke: ingest_a_linked runs in this process
        events.append("ingest_a_linked")
        yield "ingest_a_linked", "success", 1.0

    monkeypatch.setattr(runner, "run_side_by_side", side_by_side)
    dags = {d: d for d in ["ingest_a_linked", "ingest_x", "transform_warehouse"]}
    monkeypatch.setattr(runner, "side_by_side_groups", lambda d, order: [["ingest_a_linked", "ingest_x"], [order[-1]]])
    cli_run.run_dags(dags, list(dags), "unused", rebuild=False, side_by_side=True)
    assert events[:4] == ["ingest_x", "warm-up started", "warm-up joined", "ingest_a_linked"]


def test_side_by_side_dags_with_none_after_them_do_not_warm_up(monkeypatch):
    """Nothing follows to warm up for (the caller runs only ingest DAGs): no warm-up to wait for."""
    monkeypatch.setattr(runner, "WarmUp", lambda: pytest.fail("warmed up"))
    monkeypatch.setattr(runner, "run_side_by_side", lambda dags, ids, n, **kw: ((d, "success", 1.0) for d in ids))
    monkeypatch.setattr(runner, "sync_dags_to_metadata_db", lambda: None)
    monkeypatch.setattr(cli_run, "_why_skipped", lambda *a, **k: None)
    monkeypatch.setattr(cli_run, "_links_people", lambda dag_id: dag_id.endswith("_linked"))
    monkeypatch.setattr(cli_run, "_landed_bytes", lambda dag_id: 0)
    monkeypatch.setattr(cli_run.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    dags = {d: d for d in ["ingest_a_linked", "ingest_x", "ingest_b_linked"]}
    monkeypatch.setattr(runner, "side_by_side_groups", lambda d, order: [list(dags)])
    assert cli_run.run_dags(dags, list(dags), "unused", rebuild=False, side_by_side=True) == ([], False)


def test_a_run_whose_dags_run_one_at_a_time_does_not_warm_up(monkeypatch):
    """In turn (Airflow's metadata in SQLite), this process runs every DAG itself: nothing to do beforehand."""
    monkeypatch.setattr(runner, "WarmUp", lambda: pytest.fail("warmed up"))
    monkeypatch.setattr(runner, "run_dag", lambda dag, conf=None: "success")
    monkeypatch.setattr(cli_run, "_why_skipped", lambda *a, **k: None)
    dags = {"ingest_a": "a", "ingest_b": "b", "transform_warehouse": "t"}
    assert cli_run.run_dags(dags, list(dags), "unused", rebuild=False) == ([], True)


@pytest.mark.parametrize("rebuild", [False, True])
def test_rebuild_asks_the_transform_alone_for_a_full_build(monkeypatch, rebuild):
    """`partnership run --rebuild` runs the transform with its ``full_build`` param (every dbt node, not only those
    whose inputs changed); no other DAG is given a conf, and without --rebuild neither is the transform."""
    confs = {}
    monkeypatch.setattr(runner, "run_dag", lambda dag, conf=None: confs.update({dag: conf}) or "success")
    monkeypatch.setattr(cli_run, "_why_skipped", lambda *a, **k: None)
    dags = {"ingest_a": "ingest_a", "transform_warehouse": "transform_warehouse", "board_report": "board_report"}
    assert cli_run.run_dags(dags, list(dags), "unused", rebuild=rebuild) == ([], True)
    assert confs == {
        "ingest_a": None,
        "transform_warehouse": {"full_build": True} if rebuild else None,
        "board_report": None,
    }


@pytest.mark.integration
def test_the_warm_up_builds_the_execution_api_the_transform_s_tasks_call(airflow_db, monkeypatch):
    from airflow.sdk.execution_time import supervisor

    supervisor.in_process_api_server.cache_clear()  # an API of its own: this process may have built one already
    runner.WarmUp().join()
    api = supervisor.in_process_api_server()
    # Its versioned routes are built on the first request (each step of the warm-up comes before this one).
    assert api.app._cadwyn_initialized
