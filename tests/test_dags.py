"""DAG hygiene (as in Airflow's and Mozilla telemetry-airflow's tests): every DAG file imports cleanly, makes
no database query or connection lookup while parsing, and every DAG has an owner, tags and retries."""

import json
import socket
import subprocess
import sys

import pytest

from partnership import dbt_node_events, dbt_node_tasks, settings
from partnership.registry import load_registry

DAG_FILES = sorted(settings.DAGS_DIR.glob("*.py"))


class NetworkAtParseTime(AssertionError):
    pass


def parse_guarded(folder):
    """Parse a DAG folder with every way to a database blocked: sockets, drivers and connection lookups."""
    import psycopg
    import psycopg2
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import BaseHook, Variable

    def refuse(*args, **kwargs):
        raise NetworkAtParseTime("DAG parsing tried to reach a database or look up a connection")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(psycopg, "connect", refuse)
        mp.setattr(psycopg2, "connect", refuse)
        mp.setattr(BaseHook, "get_connection", classmethod(refuse))
        mp.setattr(Variable, "get", staticmethod(refuse))
        mp.setenv("WAREHOUSE_URL", "postgresql://nobody@db.invalid:5432/nothing")
        return DagBag(dag_folder=str(folder))


@pytest.fixture(scope="module")
def dagbag(dbt_manifest):
    return parse_guarded(settings.DAGS_DIR)


@pytest.mark.parametrize(
    "call",
    [
        "import psycopg; psycopg.connect('postgresql://x@127.0.0.1/db')",
        "from airflow.sdk import BaseHook; BaseHook.get_connection('warehouse')",
        "from airflow.sdk import Variable; Variable.get('anything')",
    ],
)
def test_the_guard_catches_a_dag_file_that_reaches_for_a_database(tmp_path, call):
    (tmp_path / "bad_dag.py").write_text(f"# an airflow dag file\n{call}\n")
    assert "bad_dag.py" in str(parse_guarded(tmp_path).import_errors)


def test_dag_files_exist():
    assert {p.name for p in DAG_FILES} >= {
        "ingest_sources.py",
        "transform_warehouse.py",
        "governance_retention.py",
        "ig_report.py",
        "board_report.py",
        "watch_landing.py",
        "settle_deliveries.py",
        "deliveries.py",
    }


def test_every_dag_file_imports_without_errors_or_connections(dagbag):
    assert dagbag.import_errors == {}
    assert {dag.fileloc for dag in dagbag.dags.values()} == {str(p) for p in DAG_FILES}


def test_parsing_the_dag_files_loads_no_airflow_plugin(dbt_manifest):
    """Cosmos reads the manifest through Airflow's ObjectStoragePath, whose first read loads every plugin for
    file lineage (cosmos's imports FastAPI): a quarter of a second of each parse of the transform DAG. The DAG
    files are parsed in a fresh process, as the dag-processor's benchmark does (benchmarks/dag_parse_time.py)."""
    probe = (
        "import sys; from airflow.dag_processing.dagbag import DagBag; "
        f"bag = DagBag(dag_folder={str(settings.DAGS_DIR)!r}); assert not bag.import_errors, bag.import_errors; "
        "print(sorted(m for m in sys.modules if m.startswith(('fastapi', 'cosmos.plugin.airflow'))))"
    )
    parsed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert parsed.stdout.strip().splitlines()[-1] == "[]"


def test_one_ingest_dag_per_registry_dataset(dagbag):
    ingest = {d for d in dagbag.dags if d.startswith("ingest_")}
    assert ingest == {f"ingest_{ds.name}" for ds in load_registry()}


def test_a_task_process_parses_only_the_ingest_dag_it_runs(dagbag, monkeypatch):
    """A task's process parses its DAG's file to find its task, with the DAG named in Airflow's parsing context:
    the ingest file then makes that DAG alone (the same tasks as the dag-processor's), not every dataset's. A
    parse for any other DAG id makes them all."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.context import _AIRFLOW_PARSING_CONTEXT_DAG_ID, _AIRFLOW_PARSING_CONTEXT_TASK_ID

    ingest_file = str(settings.DAGS_DIR / "ingest_sources.py")
    dag_id = f"ingest_{load_registry()[-1].name}"
    # What the task runner sets (Airflow's own context manager leaves them set after it: monkeypatch undoes them).
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, dag_id)
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID, "ingest_file.validate")
    alone = DagBag(dag_folder=ingest_file)
    assert list(alone.dags) == [dag_id]
    assert alone.dags[dag_id].task_ids == dagbag.dags[dag_id].task_ids
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, "transform_warehouse")
    every = DagBag(dag_folder=ingest_file)
    assert set(every.dags) == {d for d in dagbag.dags if d.startswith("ingest_")}


# Tasks a retry cannot help: a configuration check (fixed by a person), the watcher (its next poll is the
# retry), and announcing a quarantine (an Asset event, nothing to fail).
# The dbt build is not retried either (a retried cosmos producer skips; its node tasks' retries re-run their node),
# nor the skip of the nodes it left out (their tasks read "skipped" from the build if it fails; a retry's wait would
# hold every node task back).
NOT_RETRIED = {
    "preflight",
    "announce_landed_files",
    "ingest_file.announce_quarantine",
    "dbt.dbt_producer_watcher",
    "leave_out_unchanged_nodes",
}


def test_every_dag_has_owner_tags_retries_and_a_failure_alert(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            if task.task_id not in NOT_RETRIED:
                assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert any(type(c).__name__ == "FailureNotifier" for c in callbacks), f"{dag_id}.{task.task_id}"


def test_ingest_dag_steps_run_in_order(dagbag):
    dag = dagbag.dags["ingest_police__recorded_crime"]
    order = ["find_new_files", "ingest_file.validate", "ingest_file.load", "all_files_loaded"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert downstream in dag.get_task(upstream).downstream_task_ids


def test_the_ingest_runs_last_task_takes_no_worker_under_a_scheduler(dagbag):
    """all_files_loaded only fails the run when a file failed: the scheduler marks it done itself (an empty task
    with no success or execute callback, inlets or outlets), as it reads it from the serialized DAG."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags["ingest_police__recorded_crime"]))
    assert not TaskInstance.is_task_schedulable(dag.get_task("all_files_loaded"))
    assert TaskInstance.is_task_schedulable(dag.get_task("ingest_file.load"))


def _uris(condition) -> set[str]:
    """The Asset URIs a schedule waits on (one Asset, or any/all of several)."""
    return {condition.uri} if hasattr(condition, "uri") else {a.uri for a in condition.objects}


def test_landed_files_start_their_ingest_and_are_named_by_file(dagbag):
    watcher = dagbag.dags["watch_landing"]
    assert watcher.get_task("announce_landed_files").priority_weight == 1000
    for ds in load_registry():
        dag = dagbag.dags[f"ingest_{ds.name}"]
        assert type(dag.timetable).__name__ == "AssetOrTimeSchedule", "files are noticed between daily runs"
        assert _uris(dag.timetable.asset_condition) == {f"partnership://landing/{ds.name}"}
        for step in ("validate", "load"):
            assert dag.get_task(f"ingest_file.{step}").map_index_template == "{{ landed_file }}"


def test_loads_settle_before_one_transform_runs(dagbag):
    emitted = set()
    for ds in load_registry():
        load = dagbag.dags[f"ingest_{ds.name}"].get_task("ingest_file.load")
        emitted |= {a.uri for a in load.outlets}
    assert len(emitted) == len(load_registry())
    settle = dagbag.dags["settle_deliveries"]
    condition = settle.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny", "a delivery settles after any one source has new data"
    assert {a.uri for a in condition.objects} == emitted
    settled = {a.uri for a in settle.get_task("announce_settled").outlets}
    transform = dagbag.dags["transform_warehouse"]
    assert _uris(transform.timetable.asset_condition) == settled, "dbt runs once per settled delivery, not per load"
    dbt_tasks = [t for t in transform.tasks if t.task_id.startswith("dbt.")]
    assert dbt_tasks and all("preflight" in t.get_flat_relative_ids(upstream=True) for t in dbt_tasks), (
        "preflight runs before dbt"
    )


def test_one_dbt_build_runs_the_project_and_every_node_has_a_task_reporting_it(dagbag):
    """Cosmos's watcher mode: the producer runs `dbt build` once; a task per model, seed and snapshot reads how
    that node and its tests did (dbt_node_tasks.py). They start after the build, also when it failed: a failure
    shows on the node that failed, and the nodes that did build show as built."""
    transform = dagbag.dags["transform_warehouse"]
    producer = transform.get_task("dbt.dbt_producer_watcher")
    # A retried producer skips (cosmos), which would skip every node task and end the run "success" with nothing
    # built (seen with a model that divides by zero); a failed build must fail the run.
    assert producer.retries == 0
    # It pushes only the node events a node task reads (dbt_node_events.py), a quarter of what cosmos would.
    callbacks = producer.on_execute_callback
    assert dbt_node_events.push_only_events_node_tasks_read in (
        callbacks if isinstance(callbacks, list) else [callbacks]
    )
    command, _ = producer.build_cmd(context={})
    assert "build" in command and "--select" not in command and "--resource-type" not in command, command
    node_tasks = [t for t in transform.tasks if isinstance(t, dbt_node_tasks.ReportsItsTests)]
    manifest = json.loads(settings.dbt_manifest().read_text())
    nodes = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot") and node["config"].get("enabled", True)
    }
    assert {t.model_unique_id for t in node_tasks} == nodes, "one task for each model, seed and snapshot"
    tested = {
        uid
        for test in manifest["nodes"].values()
        if test["resource_type"] == "test"
        for uid in test["depends_on"]["nodes"]
    }
    assert {t.model_unique_id for t in node_tasks if t.has_tests} == nodes & tested, "each waits for its tests"
    assert not [t.task_id for t in transform.tasks if "test" in type(t).__name__.lower()], "no task of tests alone"
    assert all(producer.task_id in t.get_flat_relative_ids(upstream=True) for t in node_tasks)
    tops = [t for t in node_tasks if producer.task_id in t.upstream_task_ids]
    assert tops and all(t.trigger_rule == "all_done_min_one_success" for t in tops)
    # The tasks of the nodes the build left out are skipped after it, before any node task starts: a node task
    # whose upstream node tasks were all skipped starts at once, and must find the build's results there.
    leave_out = transform.get_task("leave_out_unchanged_nodes")
    assert {producer.task_id, "analyze_loaded_tables"} <= leave_out.upstream_task_ids  # runs after a failed build too
    assert leave_out.trigger_rule == "all_done_min_one_success" and leave_out.retries == 0
    assert all(leave_out.task_id in t.upstream_task_ids for t in tops)


def test_transform_dag_runs_every_dbt_model_through_cosmos(dagbag):
    task_ids = set(dagbag.dags["transform_warehouse"].task_ids)
    for model in (
        "stg_police__recorded_crime",
        "int_people_linked",
        "fct_crimes_by_ward_month",
        "fct_cross_agency_cohort",
    ):
        assert any(model in t for t in task_ids), f"no cosmos task for {model}"


def test_the_publish_schema_is_written_only_after_every_dbt_task(dagbag):
    # dbt builds the publish candidates into publish_staging; disclosure control runs after all of dbt, so the
    # publish schema never holds a table whose linked tables are not protected with it.
    transform = dagbag.dags["transform_warehouse"]
    protect = transform.get_task("protect_publish")
    dbt_tasks = {t for t in transform.task_ids if t.startswith("dbt.")}
    assert any("pub_cohort_overlap" in t for t in dbt_tasks)
    assert dbt_tasks <= protect.get_flat_relative_ids(upstream=True)


def test_governance_dag_runs_retention_daily_and_then_announces_raw_changes(dagbag):
    dag = dagbag.dags["governance_retention"]
    assert dag.schedule == "@daily"
    assert "announce_raw_changes" in dag.get_task("enforce_retention").downstream_task_ids
    announced = {a.uri for a in dag.get_task("announce_raw_changes").outlets}
    assert announced == {f"partnership://warehouse/raw/{ds.name}" for ds in load_registry()}, (
        "deleting raw rows must schedule the transform DAG, which rebuilds the dbt tables without them"
    )


def test_board_report_dag_runs_after_each_new_publish_schema(dagbag):
    dag = dagbag.dags["board_report"]
    publish = dagbag.dags["transform_warehouse"].get_task("protect_publish")
    assert {a.uri for a in publish.outlets} == {"partnership://warehouse/publish"}
    assert _uris(dag.timetable.asset_condition) == {"partnership://warehouse/publish"}
    assert dag.task_ids == ["build_report"]


def test_ig_report_dag_runs_after_a_settled_delivery_or_a_quarantine(dagbag):
    dag = dagbag.dags["ig_report"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    quarantine = dagbag.dags["ingest_police__recorded_crime"].get_task("ingest_file.announce_quarantine")
    assert quarantine.trigger_rule == "one_failed"
    assert {a.uri for a in condition.objects} == {
        "partnership://warehouse/raw-settled",
        *(a.uri for a in quarantine.outlets),
    }
    # Linkage quality is assessed first (skipped with no truth sample); the report is written whatever came of it.
    assert dag.task_ids == ["assess_linkage", "build_report"]
    assert dag.get_task("build_report").upstream_task_ids == {"assess_linkage"}
    assert dag.get_task("build_report").trigger_rule == "all_done"


def test_dbt_output_in_task_logs_is_colourless(dagbag):
    """Every cosmos task runs dbt with the global flag --no-use-colors: no ANSI colour codes in the task logs."""
    transform = dagbag.dags["transform_warehouse"]
    dbt_tasks = [t for t in transform.tasks if t.task_id.startswith("dbt.") and hasattr(t, "build_cmd")]
    assert dbt_tasks
    for t in dbt_tasks:
        assert "--no-use-colors" in t.dbt_cmd_global_flags, t.task_id
    command, _ = transform.get_task("dbt.dbt_producer_watcher").build_cmd(context={})
    assert command.index("--no-use-colors") < command.index("build"), command  # a global flag, before the command


def test_partnership_run_runs_each_dag_after_the_dags_whose_assets_it_waits_on(dagbag):
    """The order `partnership run` runs the DAGs in comes from their schedules and outlets, not from a list."""
    from partnership import runner

    order = runner.run_order(dagbag.dags)
    edges = runner.asset_edges(dagbag.dags)
    ingest = {f"ingest_{ds.name}" for ds in load_registry()}
    assert set(order) == ingest | {"transform_warehouse", "ig_report", "board_report"}, (
        "every DAG scheduled on an Asset, but not the relays, nor the DAGs on a time schedule alone"
    )
    assert edges["settle_deliveries"] >= ingest and edges["transform_warehouse"] == {"settle_deliveries"}
    assert edges["board_report"] == {"transform_warehouse"} and edges["ig_report"] >= ingest
    position = {dag_id: i for i, dag_id in enumerate(order)}
    for dag_id in order:
        for up in runner.upstream_closure(edges, dag_id) & set(position):  # through relays run or not
            assert position[up] < position[dag_id], f"{dag_id} runs before {up}, whose Asset it waits on"
    assert order.index("transform_warehouse") < order.index("ig_report"), "the IG report sees the whole run"


def _fake_dag(dag_id, *, on=(), emits=(), tags=()):
    from types import SimpleNamespace

    from airflow.sdk import AssetAny

    condition = AssetAny(*on) if len(on) > 1 else (on[0] if on else None)
    return SimpleNamespace(
        dag_id=dag_id,
        timetable=SimpleNamespace(asset_condition=condition),
        tasks=[SimpleNamespace(outlets=list(emits))],
        tags=set(tags),
    )


def test_a_new_dag_takes_its_place_from_its_assets_and_a_cycle_is_refused():
    from airflow.sdk import Asset

    from partnership import runner
    from partnership.dag_defaults import RELAY_TAG

    a, b, c = (Asset(name=n, uri=f"partnership://test/{n}") for n in "abc")
    dags = {
        "zz_first": _fake_dag("zz_first", on=[a], emits=[b]),
        "relay": _fake_dag("relay", on=[b], emits=[c], tags=[RELAY_TAG]),
        "aa_last": _fake_dag("aa_last", on=[c]),
        "mid": _fake_dag("mid", on=[b, a]),
        "timed": _fake_dag("timed", emits=[a]),
    }
    assert runner.run_order(dags) == ["zz_first", "aa_last", "mid"]
    dags["aa_last"] = _fake_dag("aa_last", on=[c], emits=[a])
    with pytest.raises(ValueError, match="cycle"):
        runner.run_order(dags)


def test_the_ingest_dags_form_one_group_and_the_transform_waits_for_all_of_them(dagbag):
    """The DAGs `partnership run` runs side by side (with Airflow's metadata in PostgreSQL)."""
    from partnership import runner

    groups = runner.side_by_side_groups(dagbag.dags, runner.run_order(dagbag.dags))
    assert groups[0] == [d for d in runner.run_order(dagbag.dags) if d.startswith("ingest_")]
    assert groups[1:] == [["transform_warehouse"], ["board_report", "ig_report"]]


def test_a_dag_joins_no_group_holding_a_dag_it_waits_on_even_through_a_relay():
    from airflow.sdk import Asset

    from partnership import runner
    from partnership.dag_defaults import RELAY_TAG

    a, b, c, d = (Asset(name=n, uri=f"partnership://test/{n}") for n in "abcd")
    dags = {
        "load_one": _fake_dag("load_one", emits=[a], on=[d]),
        "load_two": _fake_dag("load_two", emits=[b], on=[d]),
        "relay": _fake_dag("relay", on=[a, b], emits=[c], tags=[RELAY_TAG]),
        "build": _fake_dag("build", on=[c]),
        "report": _fake_dag("report", on=[a]),
    }
    assert runner.side_by_side_groups(dags, ["load_one", "load_two", "build", "report"]) == [
        ["load_one", "load_two"],
        ["build", "report"],
    ]


def test_node_tasks_start_in_the_triggerer_under_a_scheduler(dagbag):
    """What the scheduler reads from the serialized DAG: each model and seed task starts from its node's trigger
    (partnership.dbt_node_tasks.NodePassedTrigger), not in a worker process of its own."""
    from airflow.serialization.serialized_objects import BaseSerialization, DagSerialization

    dag = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags["transform_warehouse"]))
    node_tasks = [t for t in dag.tasks if t.task_id.endswith(("_model_build", "_seed_build"))]
    assert len(node_tasks) > 100
    for t in node_tasks:
        assert t.start_from_trigger and t.start_trigger_args.next_method == "execute_on_worker"
        assert t.start_trigger_args.trigger_cls == "partnership.dbt_node_tasks.NodePassedTrigger"
        kwargs = BaseSerialization.deserialize(t.start_trigger_args.trigger_kwargs)
        node = t.task_id.removeprefix("dbt.").removesuffix("_model_build").removesuffix("_seed_build")
        assert kwargs["model_unique_id"].endswith(f".{node}")
        assert kwargs["producer_task_id"] == "dbt.dbt_producer_watcher"  # the producer's id in its task group
