"""A dbt node's one task says how the node and its tests did in the watcher producer's `dbt build`.

Each case runs a real DAG with ``dag.test()``: a task stands in for the producer and leaves the XComs that
cosmos's producer leaves for the node (its state, and its tests' aggregated state), then the node's task reads
them. The producer's own pushes are checked against cosmos in test_dbt_node_events.py.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from airflow.sdk import DAG, get_current_context, task
from cosmos import ProfileConfig
from cosmos.constants import DbtResourceType
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.state import get_status_xcom_key

from partnership import dbt_node_tasks, runner, settings
from partnership.dag_defaults import START_DATE

MODEL = "model.partnership.fct_hotspots"


def node_watcher(node: str, *, project_dir: Path = settings.DBT_PROJECT_DIR, has_tests: bool = False, **kwargs):
    """The node's task, as dbt_node_tasks renders it in the transform."""
    resource_type = node.split(".")[0]
    return dbt_node_tasks.WATCHERS[DbtResourceType(resource_type)](
        task_id=f"{node.rsplit('.', 1)[1]}_{resource_type}_build",
        project_dir=str(project_dir),
        profile_config=ProfileConfig(
            profile_name=settings.DBT_PROFILE,
            target_name=settings.DBT_TARGET,
            profiles_yml_filepath=settings.DBT_PROJECT_DIR / "profiles.yml",
        ),
        extra_context={"dbt_node_config": {"unique_id": node}},
        has_tests=has_tests,
        **kwargs,
    )


def run_node_task(
    node_status: str | None,
    tests_status: str | None,
    *,
    has_tests: bool = True,
    node: str = MODEL,
    build_fails: bool = False,
    retries: int = 0,
    project_dir: Path = settings.DBT_PROJECT_DIR,
):
    """The node task's final state, after a producer that left these states (and failed, if build_fails)."""
    with DAG(f"node_task_{uuid.uuid4().hex[:8]}", schedule=None, start_date=START_DATE) as dag:

        @task(task_id="dbt_producer_watcher")
        def producer():
            ti = get_current_context()["ti"]
            if node_status is not None:
                ti.xcom_push(key=get_status_xcom_key(node), value={"status": node_status, "outlet_uris": []})
            if tests_status is not None:
                ti.xcom_push(key=get_tests_status_xcom_key(node), value=tests_status)
            if build_fails:
                raise RuntimeError("the build was stopped")

        node_task = node_watcher(
            node,
            project_dir=project_dir,
            has_tests=has_tests,
            retries=retries,
            retry_delay=timedelta(0),
            trigger_rule="all_done",  # as the top node tasks of the transform: they report a failed build too
        )
        producer() >> node_task
    run = _test_alone(dag)
    [state] = [ti.state for ti in run.get_task_instances() if ti.task_id == node_task.task_id]
    return state


def _test_alone(dag):
    """``dag.test()`` of a DAG defined here, not in the dags folder: written to the metadata DB as the
    dag-processor would, and run without parsing the dags folder (which would not find it)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=None, collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    with runner._bundle_already_synced(dag.dag_id):
        return dag.test()


@pytest.fixture(autouse=True)
def _airflow(airflow_db):
    pass


@pytest.mark.parametrize(
    ("node", "tests", "has_tests", "expected"),
    [
        ("success", "pass", True, "success"),
        ("success", "fail", True, "failed"),  # the model built, a test of it failed: its task fails
        ("error", None, True, "failed"),  # the model failed: its tests never ran
        ("success", None, False, "success"),  # a model with no tests
        ("success", None, True, "success"),  # the build ended, no test reported: as cosmos's test task
        ("skipped", None, True, "skipped"),  # downstream of a failure, dbt skipped it
    ],
)
def test_a_node_task_fails_when_its_node_or_any_of_its_tests_failed(node, tests, has_tests, expected):
    assert run_node_task(node, tests, has_tests=has_tests) == expected


def test_the_failure_names_the_node_whose_tests_failed_and_where_to_read_them(capsys):
    assert run_node_task("success", "fail") == "failed"
    logged = capsys.readouterr().out  # the task's log, as dag.test() prints it
    assert f"the tests of dbt model '{MODEL}' failed; the log of task 'dbt_producer_watcher' names each" in logged


def test_a_seed_task_fails_when_its_tests_failed(capsys):
    seed = "seed.partnership.esp2013"
    assert run_node_task("success", "pass", node=seed) == "success"
    assert run_node_task("success", "fail", node=seed) == "failed"
    assert f"the tests of dbt seed '{seed}' failed" in capsys.readouterr().out


def test_a_retry_builds_the_node_and_its_tests_by_its_fqn():
    node_task = dbt_node_tasks.DbtModelBuildWatcher(
        task_id="fct_hotspots_model_build",
        project_dir=str(settings.DBT_PROJECT_DIR),
        extra_context={"dbt_node_config": {"unique_id": MODEL}},
        select="fqn:partnership.marts.fct_hotspots",
    )
    command, _ = node_task.build_cmd(context={})
    assert command[command.index("--select") - 1 :][:3] == ["build", "--select", "fqn:partnership.marts.fct_hotspots"]


@pytest.mark.parametrize("build_fails", [False, True])
def test_the_tasks_of_nodes_left_out_of_the_build_are_skipped_after_it_and_never_start(build_fails):
    """The producer left the seed out of its build and built the mart: the seed's task is skipped after the build,
    failed or not, and never runs (no try); the mart's task after it still reports its node once the build has, as
    in the transform (its only upstream node task skipped, it would start before the build if the skip came
    first, and wait for ever under dag.test())."""
    seed, mart = "seed.partnership.manchester_localities", MODEL
    with DAG(f"leave_out_{uuid.uuid4().hex[:8]}", schedule=None, start_date=START_DATE) as dag:

        @task(task_id="analyze_loaded_tables")
        def before_the_build():
            pass

        @task(task_id="dbt_producer_watcher")
        def producer():
            ti = get_current_context()["ti"]
            ti.xcom_push(key=dbt_node_tasks.LEFT_OUT_NODES_XCOM, value=[seed])  # as skip_unchanged_nodes
            for node, status in ((seed, "skipped"), (mart, "success")):  # as skip_unchanged_nodes and dbt leave them
                ti.xcom_push(key=get_status_xcom_key(node), value={"status": status, "outlet_uris": []})
            if build_fails:
                raise RuntimeError("another node failed")

        seed_task, mart_task = node_watcher(seed), node_watcher(mart)
        leave_out = dbt_node_tasks.LeaveOutUnchangedNodes(task_id="leave_out_unchanged_nodes")
        # wired as transform.report_after_the_build wires them
        analyzed, build = before_the_build(), producer()
        analyzed >> build >> leave_out >> seed_task >> mart_task
        analyzed >> leave_out
        analyzed >> seed_task
        build >> seed_task
        leave_out.trigger_rule = seed_task.trigger_rule = "all_done_min_one_success"
        mart_task.trigger_rule = "none_failed"
    tis = {ti.task_id: ti for ti in _test_alone(dag).get_task_instances()}
    assert tis["dbt_producer_watcher"].state == ("failed" if build_fails else "success")
    assert tis["leave_out_unchanged_nodes"].state == "success"
    assert (tis[seed_task.task_id].state, tis[seed_task.task_id].try_number) == ("skipped", 0), "never started"
    assert (tis[mart_task.task_id].state, tis[mart_task.task_id].try_number) == ("success", 1)


# -- when the producer's results do not settle it, the task builds its node and runs its tests itself -------------

SEED = "seed.partnership.manchester_localities"  # 32 wards and five tests, and nothing upstream


@pytest.fixture
def dbt_project(warehouse_url, monkeypatch, tmp_path):
    """A copy of the dbt project, with dbt/profiles.yml pointed at a fresh warehouse as the task's own `dbt build`
    reads it; the test may spoil the seed's data."""
    for name, value in runner.dbt_environment(warehouse_url).items():
        monkeypatch.setenv(name, value)
    project = tmp_path / "dbt"
    shutil.copytree(settings.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    return project


def _wards(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from reference.manchester_localities").fetchone()[0]


@pytest.mark.integration
def test_a_retry_after_failed_tests_builds_the_node_and_its_own_passing_tests_decide(dbt_project, warehouse_url):
    assert run_node_task("success", "fail", node=SEED, project_dir=dbt_project) == "failed"
    assert run_node_task("success", "fail", node=SEED, project_dir=dbt_project, retries=1) == "success"
    assert _wards(warehouse_url) == 32


@pytest.mark.integration
def test_a_retry_runs_the_nodes_tests_and_fails_when_they_fail(dbt_project, warehouse_url):
    """A ward listed twice: the retry's `dbt build` loads the seed and its unique test fails the task (a retry
    that only loaded the seed, as cosmos's `.seed` task's retry did, would have passed)."""
    seed_file = dbt_project / "seeds" / "manchester_localities.csv"
    rows = seed_file.read_text().splitlines()
    seed_file.write_text("\n".join([*rows, rows[1]]) + "\n")
    assert run_node_task("success", "fail", node=SEED, project_dir=dbt_project, retries=1) == "failed"
    assert _wards(warehouse_url) == 33  # loaded, then its test failed


@pytest.mark.integration
def test_a_build_that_failed_before_reporting_the_node_is_finished_by_the_node_task(dbt_project, warehouse_url):
    """The producer failed before the seed's results reached Airflow (killed, out of memory): the seed's task
    builds the seed and runs its tests itself."""
    assert run_node_task("success", None, node=SEED, project_dir=dbt_project, build_fails=True) == "success"
    assert _wards(warehouse_url) == 32


def test_an_ephemeral_model_keeps_the_empty_task_cosmos_gives_it():
    """An ephemeral model is never built (dbt inlines it): cosmos renders an empty task, left as it is."""
    from cosmos import RenderConfig
    from cosmos.constants import ExecutionMode, TestIndirectSelection
    from cosmos.dbt.graph import DbtNode

    convert = dbt_node_tasks.one_task_per_node(RenderConfig()).node_converters[DbtResourceType.MODEL]
    node = DbtNode(
        unique_id="model.partnership.int_inlined",
        resource_type=DbtResourceType.MODEL,
        depends_on=[],
        path_base=settings.DBT_PROJECT_DIR,
        original_file_path=Path("models/int_inlined.sql"),
        config={"materialized": "ephemeral"},
        has_test=True,
    )
    with DAG("ephemeral", schedule=None, start_date=START_DATE) as dag:
        built = convert(
            dag=dag,
            task_group=None,
            node=node,
            task_args={"project_dir": str(settings.DBT_PROJECT_DIR)},
            execution_mode=ExecutionMode.WATCHER,
            test_indirect_selection=TestIndirectSelection.BUILDABLE,
            task_id="int_inlined_run",
        )
    assert type(built).__name__ == "EmptyOperator"


# -- under a scheduler: the first try starts in the triggerer ------------------------------------------------


class _Ti:
    dag_id, run_id, map_index, task_id = "transform_warehouse", "scheduled__1", -1, "dbt.fct_hotspots_model_build"

    def __init__(self, try_number: int) -> None:
        self.try_number = try_number


def first_event(*, node, tests=None, producer="running", has_tests=True, try_number=1, later_tests=None):
    """The event the node task's trigger ends with, reading these states from the build (``later_tests``: what
    the tests' state becomes on the trigger's second look)."""
    import asyncio

    trigger = dbt_node_tasks.NodePassedTrigger(MODEL, "dbt_producer_watcher", has_tests=has_tests, poke_interval=0)
    trigger.task_instance = _Ti(try_number)
    looks = {"tests": 0}

    async def producer_state():
        return producer

    async def node_status():
        return node

    async def xcom(key):
        assert key == get_tests_status_xcom_key(MODEL)
        looks["tests"] += 1
        return tests if looks["tests"] == 1 or later_tests is None else later_tests

    trigger._get_producer_task_status, trigger._get_node_status = producer_state, node_status
    trigger.get_xcom_val = xcom

    async def first():
        async for event in trigger.run():
            return event

    return asyncio.run(asyncio.wait_for(first(), timeout=10))


def _ends_as(event) -> str:
    return getattr(event, "task_instance_state", None) or f"on a worker: {event.payload['on_worker']}"


@pytest.mark.parametrize(
    "states, ends",
    [
        ({"node": "success", "has_tests": False}, "success"),
        ({"node": "success", "tests": "success"}, "success"),
        ({"node": "success", "tests": None, "producer": "success"}, "success"),
        ({"node": "success", "tests": None, "later_tests": "success"}, "success"),
        ({"node": "skipped"}, "skipped"),
        ({"node": "success", "tests": "failed"}, "on a worker: its tests did not all pass"),
        ({"node": "success", "tests": None, "producer": "failed"}, "on a worker: its tests did not all pass"),
        ({"node": "error", "tests": None}, "on a worker: the node did not pass"),
        ({"node": None, "producer": "failed"}, "on a worker: the node did not pass"),
        ({"node": None, "producer": "skipped"}, "on a worker: the node did not pass"),
        ({"node": None, "producer": "upstream_failed"}, "on a worker: the node did not pass"),
        ({"node": "success", "tests": None, "producer": "removed"}, "on a worker: its tests did not all pass"),
        ({"node": "success", "tests": "success", "try_number": 2}, "on a worker: a retry"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else ",".join(f"{k}={v}" for k, v in v.items()),
)
def test_the_trigger_ends_a_task_only_when_its_node_and_tests_passed_or_were_skipped(states, ends):
    """In the triggerer, a node task ends as a success only when the build reported the node and every one of its
    tests passed, as skipped when dbt skipped it; anything else, and every retry or clear, goes on to a worker,
    where the task runs as under dag.test() (and fails, saying why, or builds the node)."""
    assert _ends_as(first_event(**states)) == ends
