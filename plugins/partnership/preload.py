"""The libraries every task process would otherwise import for itself, imported once by the process that forks
task processes.

Under the LocalExecutor each task runs in a process forked from an executor worker, and it imports what the task
needs: Airflow's task runner, cosmos (the transform's DAG file) and Great Expectations (each file's validate task,
about 1.8 s and 120 MB of one core). Every task also loads Airflow's plugins, and cosmos's (an entry point) imports
FastAPI for its views and cosmos's listeners, and with them cosmos's operators: 0.8 s of one core in each task
process, whatever the task (0.03 s with them preloaded). Set for the scheduler::

    AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver
    AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=partnership.preload

and Airflow's forkserver imports this module once; the executor's workers are forked from it, and the task
processes from them, so each starts with these libraries imported (shared copy-on-write). docs/operating.md
says where to set it; ``tests/test_scheduler.py`` runs with it.

Only third-party libraries, never a module of this project: the forkserver lives as long as the scheduler, so
project state imported here (the registry, settings) would be what it was when the scheduler started, not what a
task reads now. ``tests/test_plugins.py`` checks that importing this module imports no other project module.
Airflow's configuration is read here too (the task runner parses it; cosmos's listeners import ``cosmos.settings``,
which reads the ``[cosmos]`` options once): the scheduler's configuration and environment, which its task processes
inherit in any case, so a change to either needs the scheduler restarted, as it always has.
"""

from __future__ import annotations

import importlib
import logging
import sys

# cosmos's plugin module itself is left to the task: with the libraries it imports already here, it costs 2 ms.
MODULES = (
    "airflow.sdk.execution_time.task_runner",
    "cosmos",
    "great_expectations",
    "fastapi",
    "cosmos.listeners.dag_run_listener",
    "cosmos.listeners.task_instance_listener",
)


def _preload(name: str) -> None:
    # A library that fails to import here is imported by the task that needs it, as before, and fails there:
    # an error must not stop the forkserver, which would stop the scheduler.
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001
        print(f"partnership.preload: {name} not preloaded ({type(exc).__name__}: {exc})", file=sys.stderr)


# GX logs a few hundred INFO lines as it imports (its API docs registry): not wanted in the scheduler's log.
_gx_log = logging.getLogger("great_expectations")
_level = _gx_log.level
_gx_log.setLevel(logging.WARNING)
try:
    for _name in MODULES:
        _preload(_name)
finally:
    _gx_log.setLevel(_level)
