"""The libraries every task process would otherwise import for itself, imported once by the process that forks
task processes.

Under the LocalExecutor each task runs in a process forked from an executor worker, and it imports what the task
needs: Airflow's task runner, cosmos (the transform's DAG file) and Great Expectations (each file's validate task,
about 1.8 s and 120 MB of one core). Set for the scheduler::

    AIRFLOW__SCHEDULER__MP_START_METHOD=forkserver
    AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD=partnership.preload

and Airflow's forkserver imports this module once; the executor's workers are forked from it, and the task
processes from them, so each starts with these libraries imported (shared copy-on-write). docs/operating.md
says where to set it; ``tests/test_scheduler.py`` runs with it.

Only third-party libraries, never a module of this project: the forkserver lives as long as the scheduler, so
project state imported here (the registry, settings) would be what it was when the scheduler started, not what a
task reads now. ``tests/test_plugins.py`` checks that importing this module imports no other project module.
"""

from __future__ import annotations

import logging

import airflow.sdk.execution_time.task_runner  # noqa: F401
import cosmos  # noqa: F401

# GX logs a few hundred INFO lines as it imports (its API docs registry): not wanted in the scheduler's log.
_gx_log = logging.getLogger("great_expectations")
_level = _gx_log.level
_gx_log.setLevel(logging.WARNING)
try:
    import great_expectations  # noqa: F401
finally:
    _gx_log.setLevel(_level)
