"""The dbt build's node events, pushed as XComs only where a node task reads them.

Cosmos 1.15's watcher producer pushes an XCom for each lifecycle event of each dbt node (NodeStart, NodeCompiling,
NodeExecuting, NodeFinished and any error), tests and hooks included, and each push holds one lock shared by dbt's
threads: about 3,100 pushes for this project, and dbt's threads wait on Airflow's API for most of the build (the
producer took 57 s for a `dbt build` that takes 18 s on its own). A node task reads one of them: the last event of
its own model, seed or snapshot, which it only logs. So only those nodes' final events are pushed (NodeFinished,
which carries the node's start and finish times too, and errors). The node
states that tasks act on (the ``*_status`` and ``*_tests_status`` XComs) and the compiled SQL are untouched.

One log line can differ: a node task that reads its event while its node is still running (it polls before the
build ends, or the build was killed mid-node) logs nothing instead of the node's latest step. The filter is
installed in the producer's process and stays for that process (under ``dag.test()``, `partnership run`'s).
Cosmos issue #2777 proposes the same filter upstream; drop this module when cosmos has it.

dbt also reports each node's result twice (its result line and NodeFinished), and cosmos pushes the node's state,
its tests' state and its compiled SQL on each: a third of the build's pushes carried the value already stored.
The producer now skips a push whose value is the one it last pushed under that key (see
:func:`push_each_value_once`): what every XCom holds at every moment after a push is unchanged.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

# Superseded within the same node by its NodeFinished (or error) event.
INTERMEDIATE_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})
# The nodes that have a task of their own (dbt_node_tasks.py); a test's result reaches its node's task as a state.
NODES_WITH_A_TASK = frozenset({"model", "seed", "snapshot"})


def is_read_by_a_node_task(dbt_log: dict) -> bool:
    """Whether a node task would ever read the XCom this dbt event becomes."""
    node = (dbt_log.get("data") or {}).get("node_info") or {}
    return (
        dbt_log.get("info", {}).get("name") not in INTERMEDIATE_EVENTS
        and node.get("resource_type") in NODES_WITH_A_TASK
    )


def push_only_events_node_tasks_read(context=None) -> None:
    """The producer's ``on_execute_callback``: from here on, this process pushes only events a node task reads,
    and each value once (:func:`push_each_value_once`).

    Idempotent. If cosmos no longer has the function it wraps, nothing changes (the build runs as cosmos wrote it,
    only slower) and a warning says so.
    """
    from cosmos.operators._watcher import base

    push_each_value_once()

    push_event = getattr(base, "_process_dbt_log_event", None)
    if push_event is None:
        log.warning("cosmos has no _process_dbt_log_event: every dbt node event is pushed as an XCom")
        return
    if getattr(push_event, "pushes_only_what_is_read", False):
        return

    def push_if_read(task_instance, dbt_log):
        if is_read_by_a_node_task(dbt_log):
            return push_event(task_instance, dbt_log)
        return None

    push_if_read.pushes_only_what_is_read = True
    push_if_read.__wrapped__ = push_event
    base._process_dbt_log_event = push_if_read


# The modules of cosmos's watcher that import safe_xcom_push by name; each is given the same wrapper, so every
# push cosmos's producer makes passes through it and its record of what each key holds stays true.
_PUSHING_MODULES = (
    "cosmos.operators._watcher.state",
    "cosmos.operators._watcher",
    "cosmos.operators._watcher.base",
    "cosmos.operators._watcher.aggregation",
    "cosmos.operators._watcher.xcom",
    "cosmos.operators.watcher",
)
_pushed_lock = threading.Lock()


def push_each_value_once() -> None:
    """From here on, cosmos's producer does not push a value again under a key that already holds it.

    Each task instance keeps what it last pushed per key; a push of an equal value is skipped, any other is
    made (and remembered), under one lock, so what each XCom holds after every push is what it would have held.
    Idempotent; if cosmos no longer has ``safe_xcom_push``, nothing changes and a warning says so.
    """
    import importlib

    from cosmos.operators._watcher import state

    push = getattr(state, "safe_xcom_push", None)
    if push is None:
        log.warning("cosmos has no safe_xcom_push: dbt node states are pushed as often as dbt reports them")
        return
    push = getattr(push, "__wrapped__", push)

    def push_if_changed(task_instance, key, value):
        with _pushed_lock:
            pushed = getattr(task_instance, "_partnership_pushed", None)
            if pushed is None:
                pushed = task_instance._partnership_pushed = {}
            if key in pushed and pushed[key] == value:
                return
            push(task_instance=task_instance, key=key, value=value)
            pushed[key] = value

    push_if_changed.__wrapped__ = push
    for name in _PUSHING_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "safe_xcom_push"):
            module.safe_xcom_push = push_if_changed
