"""A real Airflow for tests: scheduler, dag-processor, triggerer and api-server as separate processes, the
LocalExecutor, metadata in PostgreSQL, started and stopped by the test itself (no docker here).

Also a real SMTP server (aiosmtpd) that keeps what it receives, for the alerts.
"""

from __future__ import annotations

import contextlib
import email
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import psycopg

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A local SMTP server; ``messages`` holds every e-mail it accepted, parsed."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def connection(self) -> str:
        return json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": self.port,
                "extra": {"from_email": "warehouse@partnership.invalid", "disable_tls": True, "disable_ssl": True},
            }
        )

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def text(self, message) -> str:
        return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


class AirflowCluster:
    """Airflow's components over one metadata database; ``env`` is what they (and `airflow` commands) run with."""

    def __init__(self, home: Path, metadata_url: str, extra_env: dict[str, str]):
        self.home = home
        self.metadata_url = metadata_url
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            **extra_env,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url.replace("postgresql://", "postgresql+psycopg2://"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # The DAG folder is re-read often, and the scheduler loops fast: the test waits on both.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # As docs/operating.md sets it: task processes start with GX, cosmos and the task runner imported.
            "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
            "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": "partnership.preload",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }

    def airflow(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=True
        )

    def start(self) -> None:
        self.airflow("db", "migrate", timeout=300)
        for name in COMPONENTS:
            log = open(self.home / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            self.processes[name] = subprocess.Popen(
                [AIRFLOW, name], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # What a component started while it shut down (the executor's workers, forked after the signal above went
        # out) is still in its process group, with no parent left to stop it: seen after failed and passing runs.
        for proc in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def check_running(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited ({proc.returncode}):\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 4000) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")[-chars:]

    def descendants_titled(self, component: str, title: str) -> list[int]:
        """Pids of the component's descendant processes whose command line (their title) holds ``title``."""
        parents = {}
        for proc in Path("/proc").iterdir():
            try:
                stat = (proc / "stat").read_text()
                parents[int(proc.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError):  # not a process, or gone
                continue

        def descends(pid: int) -> bool:
            while pid > 1:
                pid = parents.get(pid, 0)
                if pid == self.processes[component].pid:
                    return True
            return False

        found = []
        for pid in filter(descends, parents):
            try:
                if title in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(pid)
            except OSError:
                continue
        return found

    def query(self, sql: str, *params):
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(sql, params).fetchall()

    def wait_for(self, what: str, check, timeout: float, every: float = 3.0):
        """Poll ``check`` until it returns something truthy; fail naming ``what`` (bounded, never a bare sleep)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            result = check()
            if result:
                return result
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.log_tail('scheduler')}")

    def dag_runs(self, dag_id: str) -> list[tuple]:
        """(run_id, state, run_type, queued_at, start_date, end_date) of the DAG's runs, oldest first."""
        return self.query(
            "select run_id, state, run_type, queued_at, start_date, end_date from dag_run where dag_id = %s"
            " order by queued_at",
            dag_id,
        )
