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


@pytest.fixture(autouse=True)
def cosmos_as_shipped(monkeypatch):
    """Cosmos's handler and pushing function as shipped in each test (even if a transform run in this process
    installed the wrappers), and as they were after it."""
    import importlib

    from cosmos.operators._watcher import state

    handler = base._process_dbt_log_event
    monkeypatch.setattr(base, "_process_dbt_log_event", getattr(handler, "__wrapped__", handler))
    as_shipped = getattr(state.safe_xcom_push, "__wrapped__", state.safe_xcom_push)
    for name in dbt_node_events._PUSHING_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "safe_xcom_push"):
            monkeypatch.setattr(module, "safe_xcom_push", as_shipped)
    return as_shipped


@pytest.fixture
def filter_installed():
    dbt_node_events.push_only_events_node_tasks_read()
    return base._process_dbt_log_event


def test_node_tasks_read_the_same_events_with_a_fraction_of_the_xcoms():
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


# -- each value pushed once ------------------------------------------------------------------------------------

MODEL = "model.partnership.fct_hotspots"
MODEL_TESTS = ["test.partnership.not_null_fct_hotspots_ward_code.1a2b", "test.partnership.unique_fct_hotspots_id.5e6f"]


def result_lines(unique_id: str, resource_type: str, status: str, node_path: str = "") -> list[str]:
    """The two events in which dbt reports a node's result (its result line, then NodeFinished), as JSON lines."""
    import json

    node = {"unique_id": unique_id, "resource_type": resource_type, "node_status": status, "node_path": node_path}
    result_event = {"model": "LogModelResult", "test": "LogTestResult"}.get(resource_type, "LogSeedResult")
    return [
        json.dumps({"info": {"name": name, "msg": f"{name} {unique_id}"}, "data": {"node_info": node}})
        for name in (result_event, "NodeFinished")
    ]


def build_lines(broken_test_status: str = "pass") -> list[str]:
    return [
        *result_lines("seed.partnership.esp2013", "seed", "success"),
        *result_lines(MODEL, "model", "success", "marts/fct_hotspots.sql"),
        *result_lines(MODEL_TESTS[0], "test", "pass"),
        *result_lines(MODEL_TESTS[1], "test", broken_test_status),
    ]


def pushed_once(ti: RecordingTaskInstance, suffixes: tuple[str, ...]) -> list[str]:
    """The keys with these suffixes that the build pushed, asserting each was pushed once."""
    keys = [k for k, _ in ti.pushed if k.endswith(suffixes)]
    assert len(keys) == len(set(keys)) == 4, keys  # the seed's and the model's states, its SQL, its tests' state
    return keys


def run_producer(lines: list[str], project_dir) -> RecordingTaskInstance:
    """Feed the lines through cosmos's producer handler, as its dbt event callback does."""
    ti = RecordingTaskInstance()
    extra = {"context": {"ti": ti}, "project_dir": str(project_dir)}
    results: dict = {}
    for line in lines:
        base.store_dbt_resource_status_from_log(
            line,
            extra,
            tests_per_model={MODEL: MODEL_TESTS},
            test_results_per_model=results,
            should_generate_model_uris=False,
        )
    return ti


@pytest.fixture
def project_dir(tmp_path):
    """A dbt project's compiled SQL for the model."""
    compiled = tmp_path / "target" / "compiled" / "partnership" / "models" / "marts" / "fct_hotspots.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text("select ward_code, count(*) from crimes group by 1")
    return tmp_path


@pytest.mark.parametrize("broken_test_status", ["pass", "fail"])
def test_each_node_state_is_pushed_once_and_every_key_ends_as_it_would_have(project_dir, broken_test_status):
    lines = build_lines(broken_test_status)
    as_shipped = run_producer(lines, project_dir)
    dbt_node_events.push_each_value_once()
    once = run_producer(lines, project_dir)

    assert last_value_per_key(once.pushed) == last_value_per_key(as_shipped.pushed)
    # dbt reports each result twice, and cosmos pushed the state, the tests' state and the SQL on each.
    states = ("_status", "_compiled_sql")  # ("_tests_status" ends in "_status" too)
    shipped_keys = [k for k, _ in as_shipped.pushed if k.endswith(states)]
    assert {k: shipped_keys.count(k) for k in shipped_keys} == dict.fromkeys(pushed_once(once, states), 2)
    assert len(once.pushed) < len(as_shipped.pushed)
    held: dict = {}
    for key, value in once.pushed:
        assert held.get(key, object()) != value, f"{key} pushed again with the value it held"
        held[key] = value
    model = "model__partnership__fct_hotspots"
    tests_status = "pass" if broken_test_status == "pass" else "fail"
    assert last_value_per_key(once.pushed)[f"{model}_tests_status"] == tests_status
    assert last_value_per_key(once.pushed)[f"{model}_compiled_sql"].startswith("select ward_code")


def test_a_changed_value_is_pushed_again(project_dir):
    dbt_node_events.push_each_value_once()
    ti = RecordingTaskInstance()
    from cosmos.operators._watcher import state

    for status in ("success", "success", "failed", "success"):
        state.safe_xcom_push(task_instance=ti, key="model__p__m_status", value={"status": status})
    assert [value["status"] for _, value in ti.pushed] == ["success", "failed", "success"]
    other = RecordingTaskInstance()  # another producer run: its own record of what it pushed
    state.safe_xcom_push(task_instance=other, key="model__p__m_status", value={"status": "success"})
    assert len(other.pushed) == 1


def test_installing_twice_pushes_once(project_dir):
    dbt_node_events.push_each_value_once()
    dbt_node_events.push_each_value_once()
    once = run_producer(build_lines(), project_dir)
    pushed_once(once, ("_status", "_compiled_sql"))


def test_every_cosmos_module_that_pushes_gets_the_wrapper(cosmos_as_shipped):
    """A module of cosmos left pushing through the original would write keys behind the wrapper's record."""
    import sys

    import cosmos.operators.watcher  # noqa: F401 - the producer's module, imported as the transform DAG does

    dbt_node_events.push_each_value_once()
    still_original = [
        name
        for name, module in list(sys.modules.items())
        # (the watcher of our execution mode; cosmos's Kubernetes watcher has a module of its own)
        if name.startswith(("cosmos.operators._watcher", "cosmos.operators.watcher"))
        and getattr(module, "safe_xcom_push", None) is cosmos_as_shipped
    ]
    assert still_original == []


def test_a_push_that_failed_is_not_remembered(monkeypatch):
    dbt_node_events.push_each_value_once()
    from cosmos.operators._watcher import state

    class FlakyTaskInstance(RecordingTaskInstance):
        fail_next = True

        def xcom_push(self, key, value):
            if self.fail_next:
                self.fail_next = False
                raise ConnectionError("the API did not answer")
            super().xcom_push(key, value)

    ti = FlakyTaskInstance()
    with pytest.raises(ConnectionError):
        state.safe_xcom_push(task_instance=ti, key="model__p__m_status", value={"status": "success"})
    state.safe_xcom_push(task_instance=ti, key="model__p__m_status", value={"status": "success"})
    assert ti.pushed == [("model__p__m_status", {"status": "success"})]
