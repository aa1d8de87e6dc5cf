"""The plugins folder as Airflow's plugin manager sees it (docker-compose.yml points PLUGINS_FOLDER at plugins/):
only the real plugin loads, the partnership package is not executed as top-level modules, and the plugin's links
are external views the Airflow 3 UI accepts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
PACKAGE_MODULES = sorted(p.stem for p in (PLUGINS / "partnership").glob("*.py") if p.stem != "__init__")

# Runs in a fresh process, as an Airflow component starts: load the plugins folder, report what it did.
LOAD = """
import json, sys
before = set(sys.modules)
from airflow import plugins_manager
from airflow._shared.plugins_manager import PluginsDirectorySource
from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse

plugins, errors = plugins_manager._get_plugins()
info = {p["name"]: p for p in plugins_manager.get_plugin_info()}  # what the api-server's /plugins returns
views = info.get("partnership_links", {}).get("external_views", [])
import partnership.settings  # the package is still importable under its own name
print(json.dumps({
    "loaded": sorted(p.name for p in plugins if isinstance(p.source, PluginsDirectorySource)),
    "errors": errors,
    "new_modules": sorted(set(sys.modules) - before),
    "views": views,
    "validated": [ExternalViewResponse.model_validate(v).model_dump() for v in views],
    "package_at": partnership.settings.__file__,
}))
"""


def load_plugins(folder: Path, tmp_path: Path, **env: str) -> dict:
    environ = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", LOAD], env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_plugin_manager_loads_only_the_real_plugin_and_none_of_the_package(tmp_path):
    found = load_plugins(PLUGINS, tmp_path)
    assert found["loaded"] == ["partnership_links"] and found["errors"] == {}
    assert {"settings", "cli", "registry"} <= set(PACKAGE_MODULES)
    assert not set(PACKAGE_MODULES) & set(found["new_modules"]), "package modules imported as top-level modules"
    assert found["package_at"] == str(PLUGINS / "partnership" / "settings.py")


def test_without_the_airflowignore_the_package_would_be_executed(tmp_path):
    """The check above can fail: with no .airflowignore every package module becomes a top-level module."""
    folder = shutil.copytree(
        PLUGINS, tmp_path / "plugins", ignore=shutil.ignore_patterns(".airflowignore", "__pycache__")
    )
    found = load_plugins(folder, tmp_path)
    assert {"settings", "cli", "registry"} <= set(found["new_modules"])


def test_the_links_are_well_formed_external_views_set_from_the_environment(tmp_path):
    defaults = load_plugins(PLUGINS, tmp_path)["views"]
    assert [v["name"] for v in defaults] == ["IG data-quality report", "Great Expectations Data Docs", "dbt docs"]
    assert all(v["destination"] == "nav" and v["category"] == "Partnership" for v in defaults)
    assert all(v["href"].startswith("http://localhost:808") for v in defaults)
    assert all("url_route" not in v for v in defaults), "links out, not pages framed inside Airflow"

    urls = {
        "PARTNERSHIP_IG_REPORT_URL": "https://reports.example.org/ig/",
        "PARTNERSHIP_DATA_DOCS_URL": "https://reports.example.org/data-docs/",
        "PARTNERSHIP_DBT_DOCS_URL": "https://reports.example.org/dbt/",
    }
    found = load_plugins(PLUGINS, tmp_path, **urls)
    assert [v["href"] for v in found["views"]] == list(urls.values())
    assert [v["href"] for v in found["validated"]] == list(urls.values())


# Runs in a fresh process, as the scheduler starts its LocalExecutor: Airflow's own set-up of the start method
# from the configuration, then a worker process, which reports what it started with imported.
FORKSERVER = """
import json, multiprocessing, sys

def report(queue):
    modules = sorted(m for m in sys.modules if m.split(".")[0] in ("partnership", "great_expectations", "cosmos")
        or m == "airflow.sdk.execution_time.task_runner")
    # What a task process does first: load Airflow's plugins (cosmos's among them, an entry point).
    from airflow.sdk.plugins_manager import _get_plugins
    before = set(sys.modules)
    plugins, errors = _get_plugins()
    queue.put({"modules": modules, "plugins": sorted(p.name for p in plugins), "plugin_errors": errors,
        "imported_by_plugins": sorted(set(sys.modules) - before)})

if __name__ == "__main__":
    from airflow.utils.process_utils import set_component_mp_start_method
    set_component_mp_start_method("scheduler")
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=report, args=(queue,))
    worker.start()
    found = queue.get(timeout=120)
    worker.join()
    print(json.dumps({"method": multiprocessing.get_start_method(), **found}))
"""


def test_executor_workers_start_with_the_task_libraries_and_no_project_module(tmp_path):
    """docs/operating.md's setting for the scheduler: its executor's workers, and so the task processes forked from
    them, start with GX, cosmos and the task runner imported, and with no module of the project (whose state, the
    registry say, would otherwise be as it was when the scheduler started)."""
    script = tmp_path / "start_worker.py"
    script.write_text(FORKSERVER)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "partnership.preload",
    }
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout.strip().splitlines()[-1])
    assert started["method"] == "forkserver"
    modules = started["modules"]
    assert {"great_expectations", "cosmos", "airflow.sdk.execution_time.task_runner"} <= set(modules)
    assert [m for m in modules if m.split(".")[0] == "partnership"] == ["partnership", "partnership.preload"]
    assert "Skipping registering function" not in done.stdout + done.stderr  # GX's import-time INFO lines
    # Loading the plugins, as each task does, finds cosmos's with its libraries (FastAPI, its listeners and
    # operators) already imported: the plugin's own modules are all a task process imports for it.
    assert "cosmos" in started["plugins"] and not started["plugin_errors"]
    heavy = ("fastapi", "starlette", "cosmos.listeners", "cosmos.operators", "cosmos.config")
    assert not [m for m in started["imported_by_plugins"] if m.startswith(heavy)], started["imported_by_plugins"]
