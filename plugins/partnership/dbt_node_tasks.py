"""One Airflow task per dbt model, seed or snapshot, reporting how the node and its tests did in the build.

Cosmos's watcher mode (transform.py) gives each node with tests two tasks that read the producer's one
`dbt build`: ``<node>.run`` and ``<node>.test``. Here a node has one task, ``<node>_<type>_build``, as cosmos names
a node's task under ``TestBehavior.BUILD``: it fails when the node failed (as ``.run`` did) and when any of its
tests failed (as ``.test`` did), saying which. Half the tasks, the same failures shown on the same node: each
task costs about 0.2 s under ``dag.test()`` and a process of its own that parses this DAG under a scheduler.

A retry, or a clear in the UI once the build has ended, runs ``dbt build --select`` the node (the node, then its
tests), where the two tasks ran ``dbt run`` and ``dbt test``; so does the task when the build failed or was
skipped before the node's tests reported, as cosmos's test task did. Its own tests' results then decide.
An ephemeral model, or a seed cosmos is told not to render, is left as cosmos renders it.

Cosmos renders the task through ``RenderConfig.node_converters``, its way to render a node type your own way;
the task's arguments are the ones cosmos gives a node's task under ``TestBehavior.BUILD`` (select the node by
fqn, the indirect selection, the excluded resource types). Cosmos's watcher offers no task of this kind.
"""

from __future__ import annotations

import copy

from airflow.exceptions import AirflowException
from cosmos.airflow.graph import _get_dbt_dag_task_group_identifier, create_airflow_task, create_task_metadata
from cosmos.config import RenderConfig
from cosmos.constants import DbtResourceType, TestBehavior
from cosmos.listeners.dag_run_listener import EventStatus
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.state import (
    ProducerTaskState,
    get_xcom_val,
    is_dbt_node_status_success,
    is_producer_task_terminated,
)
from cosmos.operators._watcher.triggerer import WatcherEventReason, WatcherTrigger
from cosmos.operators.watcher import (
    DbtConsumerWatcherSensor,
    DbtRunWatcherOperator,
    DbtSeedWatcherOperator,
    DbtSnapshotWatcherOperator,
)


class ReportsItsTests(DbtConsumerWatcherSensor):
    """Put before one of cosmos's watcher sensors: once its node has succeeded, wait for the node's tests (the
    aggregated ``<node>_tests_status`` XCom the producer pushes when all of them have reported)."""

    base_cmd = ["build"]  # the fallback after the build (a retry, a clear): the node and its tests

    def __init__(self, *, has_tests: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.has_tests = has_tests
        self._built_here = False

    def _fallback_to_non_watcher_run(self, try_number, context):
        self._built_here = True  # dbt build ran the node's tests here: the producer's results do not apply
        return super()._fallback_to_non_watcher_run(try_number, context)

    def poke(self, context) -> bool:
        return super().poke(context) and self._tests_passed(context)

    def _tests_passed(self, context) -> bool:
        """True when the node has no tests or they passed (or were run here); False while the build runs on;
        raises when one failed."""
        if self._built_here or not self.has_tests:
            return True
        status = get_xcom_val(context["ti"], self.producer_task_id, get_tests_status_xcom_key(self.model_unique_id))
        if status is None:
            producer = self._get_producer_task_status(context)
            if producer == ProducerTaskState.SUCCESS:
                return True  # every test reports before a build succeeds; cosmos's test task, too, then passes
            if is_producer_task_terminated(producer):
                # The build failed or was skipped (a cleared run) before the tests reported: build the node and
                # run its tests here, as cosmos's test task ran them.
                return self._fallback_to_non_watcher_run(context["ti"].try_number, context)
            return False  # the build is still running
        if is_dbt_node_status_success(status):
            return True
        raise AirflowException(self._tests_failed())

    def _tests_failed(self) -> str:
        return (
            f"the tests of dbt {self.model_unique_id.split('.')[0]} '{self.model_unique_id}' failed; "
            f"the log of task '{self.producer_task_id}' names each test and its result"
        )

    def execute_complete(self, context, event) -> None:
        """The deferred path: the node's own result came first; now its tests'."""
        super().execute_complete(context, event)
        if not self._tests_passed(context):
            self.defer(
                trigger=WatcherTrigger(
                    model_unique_id=self.model_unique_id,
                    producer_task_id=self.producer_task_id,
                    dag_id=self.dag_id,
                    run_id=context["run_id"],
                    map_index=context["task_instance"].map_index,
                    poke_interval=self.poke_interval,
                    is_test_sensor=True,
                ),
                timeout=self.execution_timeout,
                method_name=self.execute_tests_complete.__name__,
            )

    def execute_tests_complete(self, context, event) -> None:
        status, reason = event.get("status"), event.get("reason")
        if status != EventStatus.FAILED:
            return
        if reason in (WatcherEventReason.PRODUCER_SKIPPED, WatcherEventReason.PRODUCER_FAILED):
            # The build ended before the tests reported: run them here, as cosmos's test task did.
            self._fallback_to_non_watcher_run(try_number=context["ti"].try_number, context=context)
        else:
            raise AirflowException(self._tests_failed())


class DbtModelBuildWatcher(ReportsItsTests, DbtRunWatcherOperator):
    """A dbt model and its tests, as run by the watcher producer's `dbt build`."""


class DbtSeedBuildWatcher(ReportsItsTests, DbtSeedWatcherOperator):
    """A dbt seed and its tests, as run by the watcher producer's `dbt build`."""


class DbtSnapshotBuildWatcher(ReportsItsTests, DbtSnapshotWatcherOperator):
    """A dbt snapshot and its tests, as run by the watcher producer's `dbt build`."""


WATCHERS = {
    DbtResourceType.MODEL: DbtModelBuildWatcher,
    DbtResourceType.SEED: DbtSeedBuildWatcher,
    DbtResourceType.SNAPSHOT: DbtSnapshotBuildWatcher,
}


def _node_task(as_built: RenderConfig, *, dag, task_group, node, task_args, execution_mode, **kwargs):
    """A cosmos node converter: the task cosmos would give the node under ``TestBehavior.BUILD``, as a watcher."""
    metadata = create_task_metadata(
        node=node,
        execution_mode=execution_mode,
        args=task_args,
        dbt_dag_task_group_identifier=_get_dbt_dag_task_group_identifier(dag, task_group),
        render_config=as_built,
        test_indirect_selection=kwargs["test_indirect_selection"],
        on_warning_callback=kwargs.get("on_warning_callback"),
    )
    if metadata is None:  # a seed cosmos is told not to render
        return None
    if metadata.operator_class.endswith(".DbtBuildWatcherOperator"):  # not an ephemeral model's empty task
        watcher = WATCHERS[node.resource_type]
        metadata.operator_class = f"{watcher.__module__}.{watcher.__name__}"
        metadata.arguments["has_tests"] = bool(node.has_test)
    return create_airflow_task(metadata, dag, task_group=task_group)


def one_task_per_node(render_config: RenderConfig) -> RenderConfig:
    """The render config, with each model, seed and snapshot rendered as one task reporting it and its tests."""
    as_built = copy.copy(render_config)  # once, not per node: this runs at every parse of the DAG
    as_built.test_behavior, as_built.node_converters = TestBehavior.BUILD, None

    def node_and_its_tests(**kwargs):
        return _node_task(as_built, **kwargs)

    render_config.node_converters = dict.fromkeys(WATCHERS, node_and_its_tests)
    return render_config
