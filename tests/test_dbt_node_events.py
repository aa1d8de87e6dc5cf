"""The dbt build's node events: a node task reads the same event as before, with a fraction of the XComs.

A node's lifecycle is fed through cosmos's own event handler, once as cosmos ships it and once with the filter
installed (dbt_node_events.py), and the XComs each leaves are compared.
"""

from __future__ import annotations

import pytest
from cosmos.operators._watcher import base

from partnership import dbt_node_events


class RecordingTaskInstance:
    """What cosmos's handler needs of a task instance: somewhere to push XComs, in order."""

    def __init__(self):
        self.pushed: list[tuple[str, dict]] = []

    def xcom_push(self, key, value):
        self.pushed.append((key, value))


def lifecycle(unique_id: str, resource_type: str, final: str = "success", error: str | None = None) -> list[dict]:
    """The events dbt emits for one node, as cosmos's handler receives them (JSON log lines, parsed)."""

    def event(name, status, **extra):
        node = {"unique_id": unique_id, "resource_type": resource_type, "node_status": status}
        node |= {"node_started_at": "2026-12-02T12:00:01", "node_finished_at": extra.pop("finished", "")}
        return {"info": {"name": name, "msg": f"{name} {unique_id}"}, "data": {"node_info": node, **extra}}

    events = [event("NodeStart", "started"), event("NodeCompiling", "compiling"), event("NodeExecuting", "executing")]
    events.append(event("NodeFinished", final, finished="2026-12-02T12:00:02", run_result={"message": "SELECT 9"}))
    if error:
        events.append(event("RunResultError", final, finished="2026-12-02T12:00:02", msg=error))
    return events


BUILD = [
    *lifecycle("model.partnership.fct_hotspots", "model"),
    *lifecycle("seed.partnership.esp2013", "seed"),
    *lifecycle("snapshot.partnership.dim_school_snapshot", "snapshot"),
    *lifecycle("operation.partnership.partnership-on-run-end-0", "operation"),
    *lifecycle("test.partnership.not_null_fct_hotspots_ward_code.1a2b", "test"),
    *lifecycle("model.partnership.fct_broken", "model", final="error", error="division by zero"),
    *lifecycle("test.partnership.unique_fct_broken_id.3c4d", "test", final="fail", error="Got 2 results"),
]


def last_value_per_key(pushed):
    return dict(pushed)


def run_build(events) -> RecordingTaskInstance:
    ti = RecordingTaskInstance()
    for dbt_log in events:
        base._process_dbt_log_event(ti, dbt_log)
    return ti


@pytest.fixture
def filter_installed(monkeypatch):
    monkeypatch.setattr(base, "_process_dbt_log_event", base._process_dbt_log_event)  # restored afterwards
    dbt_node_events.push_only_events_node_tasks_read()
    return base._process_dbt_log_event


def test_node_tasks_read_the_same_events_with_a_fraction_of_the_xcoms(monkeypatch):
    # Cosmos's handler as shipped, even if a transform run in this process installed the filter already.
    as_shipped_handler = getattr(base._process_dbt_log_event, "__wrapped__", base._process_dbt_log_event)
    monkeypatch.setattr(base, "_process_dbt_log_event", as_shipped_handler)
    as_shipped = run_build(BUILD)
    dbt_node_events.push_only_events_node_tasks_read()
    filtered = run_build(BUILD)

    read_by_node_tasks = {
        key: value
        for key, value in last_value_per_key(as_shipped.pushed).items()
        if key.startswith(("model__", "seed__", "snapshot__"))
    }
    assert last_value_per_key(filtered.pushed) == read_by_node_tasks
    assert read_by_node_tasks["model__partnership__fct_broken_dbt_event"]["msg"] == "division by zero"
    assert read_by_node_tasks["model__partnership__fct_hotspots_dbt_event"]["finish_time"], "the times are kept"
    assert len(as_shipped.pushed) == 30 and len(filtered.pushed) == 5


def test_installing_twice_filters_once(filter_installed):
    dbt_node_events.push_only_events_node_tasks_read()
    assert base._process_dbt_log_event is filter_installed


def test_a_cosmos_without_the_handler_is_left_as_it_is(monkeypatch, caplog):
    monkeypatch.delattr(base, "_process_dbt_log_event")
    dbt_node_events.push_only_events_node_tasks_read()
    assert not hasattr(base, "_process_dbt_log_event")
    assert "every dbt node event is pushed" in caplog.text
