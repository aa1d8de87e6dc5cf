"""A dbt node's one task says how the node and its tests did in the watcher producer's `dbt build`.

Each case runs a real DAG with ``dag.test()``: a task stands in for the producer and leaves the XComs that
cosmos's producer leaves for the node (its state, and its tests' aggregated state), then the node's task reads
them. The producer's own pushes are checked against cosmos in test_dbt_node_events.py.
"""

from __future__ import annotations

import uuid

import pytest
from airflow.sdk import DAG, get_current_context, task
from cosmos import ProfileConfig
from cosmos.constants import DbtResourceType
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.state import get_status_xcom_key

from partnership import dbt_node_tasks, runner, settings
from partnership.dag_defaults import START_DATE

MODEL = "model.partnership.fct_hotspots"


def run_node_task(node_status: str | None, tests_status: str | None, *, has_tests: bool = True, node: str = MODEL):
    """The node task's final state and log lines, after a producer that left these states."""
    with DAG(f"node_task_{uuid.uuid4().hex[:8]}", schedule=None, start_date=START_DATE) as dag:

        @task(task_id="dbt_producer_watcher")
        def producer():
            ti = get_current_context()["ti"]
            if node_status is not None:
                ti.xcom_push(key=get_status_xcom_key(node), value={"status": node_status, "outlet_uris": []})
            if tests_status is not None:
                ti.xcom_push(key=get_tests_status_xcom_key(node), value=tests_status)

        resource_type = node.split(".")[0]
        node_task = dbt_node_tasks.WATCHERS[DbtResourceType(resource_type)](
            task_id=f"{node.rsplit('.', 1)[1]}_{resource_type}_build",
            project_dir=str(settings.DBT_PROJECT_DIR),
            profile_config=ProfileConfig(
                profile_name=settings.DBT_PROFILE,
                target_name=settings.DBT_TARGET,
                profiles_yml_filepath=settings.DBT_PROJECT_DIR / "profiles.yml",
            ),
            extra_context={"dbt_node_config": {"unique_id": node}},
            has_tests=has_tests,
            retries=0,
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


def test_a_retry_builds_the_node_and_its_tests():
    node_task = dbt_node_tasks.DbtModelBuildWatcher(
        task_id="fct_hotspots_model_build",
        project_dir=str(settings.DBT_PROJECT_DIR),
        extra_context={"dbt_node_config": {"unique_id": MODEL}},
        select="fqn:partnership.marts.fct_hotspots",
    )
    command, _ = node_task.build_cmd(context={})
    assert command[command.index("--select") - 1 :][:3] == ["build", "--select", "fqn:partnership.marts.fct_hotspots"]
