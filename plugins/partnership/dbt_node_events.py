"""The dbt build's node events, pushed as XComs only where a node task reads them.

Cosmos 1.15's watcher producer pushes an XCom for each lifecycle event of each dbt node (NodeStart, NodeCompiling,
NodeExecuting, NodeFinished and any error), tests included, and each push holds one lock shared by dbt's threads:
about 3,100 pushes for this project, and dbt's threads wait on Airflow's API for most of the build (the producer
took 57 s for a `dbt build` that takes 18 s on its own). A node task reads one of them: the last event of its own
model, seed or snapshot, which it logs (a test task reads its model's, too). So the events a node task would never
read are not pushed: the intermediate ones (the last, NodeFinished or an error, carries the node's start and finish
times as well) and those of tests. The node states that tasks act on (the ``*_status`` XComs) are untouched.
Cosmos issue #2777 proposes the same filter upstream; drop this module when cosmos has it.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Superseded within the same node by its NodeFinished (or error) event.
INTERMEDIATE_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})


def is_read_by_a_node_task(dbt_log: dict) -> bool:
    """Whether a node task would ever read the XCom this dbt event becomes."""
    node = (dbt_log.get("data") or {}).get("node_info") or {}
    return dbt_log.get("info", {}).get("name") not in INTERMEDIATE_EVENTS and node.get("resource_type") != "test"


def push_only_events_node_tasks_read(context=None) -> None:
    """The producer's ``on_execute_callback``: from here on, this process pushes only events a node task reads.

    Idempotent. If cosmos no longer has the function it wraps, nothing changes (the build runs as cosmos wrote it,
    only slower) and a warning says so.
    """
    from cosmos.operators._watcher import base

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
    base._process_dbt_log_event = push_if_read
