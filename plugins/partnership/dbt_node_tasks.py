"""One Airflow task per dbt model, seed or snapshot, reporting how the node and its tests did in the build.

Cosmos's watcher mode (transform.py) gives each node with tests two tasks that read the producer's one
`dbt build`: ``<node>.run`` and ``<node>.test``. Here a node has one task, ``<node>_<type>_build``, as cosmos names
a node's task under ``TestBehavior.BUILD``: it fails when the node failed (as ``.run`` did) and when any of its
tests failed (as ``.test`` did), saying which. Half the tasks, the same failures shown on the same node: each
task costs about 0.2 s under ``dag.test()`` and a process of its own that parses this DAG under a scheduler.

A retry, or a clear in the UI once the build has ended, runs ``dbt build --select`` the node (the node, then its
tests), where the two tasks ran ``dbt run`` and ``dbt test``; so does the task when the build failed or was
skipped before the node's tests reported, as cosmos's test task did. Its own tests' results then decide. A node
the build left out (its inputs unchanged) has its task skipped before it starts (:class:`LeaveOutUnchangedNodes`);
cleared, that task ends skipped again, as its build left the node out: to build it, trigger a ``full_build`` run.
An ephemeral model, or a seed cosmos is told not to render, is left as cosmos renders it.

Under a scheduler the task starts in the triggerer (Airflow's ``start_from_trigger``), not on a worker: a
trigger reads the node's and its tests' results from the build's XComs and, when all passed (or the node was
skipped), ends the task there. A task that does not pass there, and every retry or clear of a task that ran,
goes on to a worker and runs as described above. After a build, the 115 node tasks were 115 worker processes,
each parsing this DAG to read one XCom. ``dag.test()`` runs every task itself and never starts one in the triggerer.

Cosmos renders the task through ``RenderConfig.node_converters``, its way to render a node type your own way;
the task's arguments are the ones cosmos gives a node's task under ``TestBehavior.BUILD`` (select the node by
fqn, the indirect selection, the excluded resource types). Cosmos's watcher offers no task of this kind.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import timedelta

from airflow.exceptions import AirflowException
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import DownstreamTasksSkipped
from airflow.triggers.base import StartTriggerArgs, TaskSkippedEvent, TaskSuccessEvent, TriggerEvent
from cosmos.airflow.graph import _get_dbt_dag_task_group_identifier, create_airflow_task, create_task_metadata
from cosmos.config import RenderConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, DbtResourceType, TestBehavior
from cosmos.listeners.dag_run_listener import EventStatus
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.state import (
    ProducerTaskState,
    get_xcom_val,
    is_dbt_node_status_skipped,
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

log = logging.getLogger(__name__)


class NodePassedTrigger(WatcherTrigger):
    """A node task's first try, in the triggerer: ends the task as a success when the build reported the node and
    all its tests passed, as skipped when dbt skipped the node; for anything else (a failure, a build that ended
    before reporting, a retry) the task goes on to a worker (``execute_on_worker``), which decides as it always
    has. The run it watches is the task instance's, known only once the trigger runs."""

    def __init__(self, model_unique_id: str, producer_task_id: str, has_tests: bool, poke_interval: float = 5.0):
        super().__init__(model_unique_id, producer_task_id, dag_id="", run_id="", map_index=None)
        self.has_tests, self.poke_interval = has_tests, poke_interval

    def serialize(self) -> tuple[str, dict]:
        return (
            f"{type(self).__module__}.{type(self).__name__}",
            {
                "model_unique_id": self.model_unique_id,
                "producer_task_id": self.producer_task_id,
                "has_tests": self.has_tests,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self):
        ti = self.task_instance
        self.dag_id, self.run_id, self.map_index = ti.dag_id, ti.run_id, ti.map_index
        if ti.try_number > 1:  # a retry or a clear: the worker builds the node and its tests
            yield TriggerEvent({"on_worker": "a retry"})
            return
        while True:
            producer = await self._get_producer_task_status()
            node = await self._get_node_status()
            if is_dbt_node_status_skipped(node):
                yield TaskSkippedEvent()
                return
            if is_dbt_node_status_success(node):
                tests = await self.get_xcom_val(get_tests_status_xcom_key(self.model_unique_id))
                # every test reports before a build succeeds: none reported, none ran (as _tests_passed)
                if (
                    not self.has_tests
                    or is_dbt_node_status_success(tests)
                    or (tests is None and producer == ProducerTaskState.SUCCESS)
                ):
                    yield TaskSuccessEvent()
                    return
                if tests is not None or is_producer_task_terminated(producer):
                    yield TriggerEvent({"on_worker": "its tests did not all pass"})
                    return
            elif node is not None or is_producer_task_terminated(producer):  # upstream_failed, removed too
                yield TriggerEvent({"on_worker": "the node did not pass"})
                return
            await asyncio.sleep(self.poke_interval)


class ReportsItsTests(DbtConsumerWatcherSensor):
    """Put before one of cosmos's watcher sensors: once its node has succeeded, wait for the node's tests (the
    aggregated ``<node>_tests_status`` XCom the producer pushes when all of them have reported). Under a
    scheduler it starts in the triggerer (:class:`NodePassedTrigger`)."""

    base_cmd = ["build"]  # the fallback after the build (a retry, a clear): the node and its tests

    def __init__(self, *, has_tests: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.has_tests = has_tests
        self._built_here = False
        self.start_from_trigger = True
        self._start_in_the_triggerer()

    @property
    def producer_task_id(self) -> str:
        return self._producer_task_id

    @producer_task_id.setter
    def producer_task_id(self, task_id: str) -> None:
        # Cosmos names the producer after it has made the node tasks (the task group's prefix comes then).
        self._producer_task_id = task_id
        if hasattr(self, "has_tests"):
            self._start_in_the_triggerer()

    def _start_in_the_triggerer(self) -> None:
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=f"{NodePassedTrigger.__module__}.{NodePassedTrigger.__name__}",
            trigger_kwargs={
                "model_unique_id": self.model_unique_id,
                "producer_task_id": self.producer_task_id,
                "has_tests": self.has_tests,
                "poke_interval": float(self.poke_interval),
            },
            next_method=self.execute_on_worker.__name__,
            timeout=timedelta(seconds=self.timeout) if self.timeout else None,
        )

    def execute_on_worker(self, context, event=None) -> None:
        """What the trigger did not end in the triggerer: the task as it runs without one."""
        return self.execute(context)

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


UNCHANGED_NODES_XCOM = "unchanged_nodes"  # pushed by the transform's read_inputs task (transform_inputs.py)
READ_INPUTS_TASK_ID = "read_inputs"
LEFT_OUT_NODES_XCOM = "left_out_nodes"  # pushed by the producer, once it has left them out of its build


def node_tasks_of(dag, unique_ids) -> list[ReportsItsTests]:
    """The tasks of the DAG that report these dbt nodes."""
    wanted = set(unique_ids)
    return [t for t in dag.tasks if isinstance(t, ReportsItsTests) and t.model_unique_id in wanted]


class LeaveOutUnchangedNodes(BaseOperator):
    """After the build, before the node tasks: the tasks of the nodes the producer left out of its build (their
    inputs unchanged) are marked skipped through Airflow's execution API (``DownstreamTasksSkipped``, what a
    short-circuit raises), so they never start. Under ``dag.test()`` each such task cost about 0.15 s of Airflow's
    task handling to read one XCom and end skipped; under a scheduler, a trigger each. A delivery of one agency
    leaves most of the 115 out. No skip is recorded for Airflow's NotPreviouslySkippedDep: a cleared node task runs
    and reads its node's state, whatever its place in the graph."""

    def execute(self, context) -> None:
        # What the producer's callback actually left out, not what read_inputs proposed: a callback that failed
        # left every node in the build, and each task then reports dbt's own result.
        left_out = context["ti"].xcom_pull(task_ids=producer_task_id(self.dag), key=LEFT_OUT_NODES_XCOM) or []
        tasks = [t.task_id for t in node_tasks_of(self.dag, left_out)]
        log.info("skipping %s node tasks (%s nodes left out of the build)", len(tasks), len(left_out))
        if tasks:
            raise DownstreamTasksSkipped(tasks=tasks)  # the task itself succeeds


def producer_task_id(dag) -> str:
    """The task id of cosmos's watcher producer (the one `dbt build`), whatever task group holds it."""
    return next(t.task_id for t in dag.tasks if t.task_id.split(".")[-1] == PRODUCER_WATCHER_TASK_ID)


def skip_unchanged_nodes(context) -> None:
    """The producer's ``on_execute_callback``: the nodes whose inputs are as the last build read them are left out
    of its `dbt build`, and each is marked skipped in its XComs, as cosmos marks a node it leaves out. Their tasks
    are skipped after the build (:class:`LeaveOutUnchangedNodes`); one that runs anyway (cleared by hand) reads
    that and ends skipped, where with no node state it would wait for one for ever. What read_inputs found, or
    nothing when it was told to rebuild all."""
    from cosmos.operators._watcher.state import get_status_xcom_key, safe_xcom_push

    ti, producer = context["ti"], context["task"]
    unchanged = ti.xcom_pull(task_ids=READ_INPUTS_TASK_ID, key=UNCHANGED_NODES_XCOM) or []
    skipped = {"status": "skipped", "outlet_uris": []}  # as cosmos marks a node it leaves out
    for unique_id in unchanged:
        safe_xcom_push(task_instance=ti, key=get_status_xcom_key(unique_id), value=skipped)
    if unchanged:
        excluded = producer.exclude.split() if isinstance(producer.exclude, str) else list(producer.exclude or [])
        producer.exclude = excluded + [unique_id.split(".")[-1] for unique_id in unchanged]
        ti.xcom_push(key=LEFT_OUT_NODES_XCOM, value=unchanged)  # read by LeaveOutUnchangedNodes after the build
        log.info("%s nodes left out of the build, their inputs unchanged since the last build", len(unchanged))
