"""The DAGs under a real Airflow scheduler, as a team running it unattended would: components started here
(LocalExecutor, metadata on PostgreSQL), DAGs unpaused, a delivery landed, and nobody triggering anything.

What must happen on its own: the watcher notices the files, every good file loads and the faulty one is quarantined,
one transform runs for the whole delivery and succeeds, the IG report shows the quarantine, the right people are
e-mailed (a real SMTP server). A file landed while that transform builds is loaded within the watcher's interval,
without waiting for the build, and settles into a second transform that builds only what reads it.
"""

from __future__ import annotations

import csv
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from airflow_cluster import AirflowCluster, SmtpSink
from conftest import with_database

from partnership import runner, settings, warehouse
from partnership.demo import defects, generator
from partnership.registry import get_dataset, load_registry
from partnership.screening import shown_file_name

pytestmark = [pytest.mark.integration, pytest.mark.scheduler]

WATCH_SECONDS = 20
# Scheduling slack on top of the watcher's interval: a scheduler loop, a queued run, a free executor slot.
SCHEDULING_SLACK_SECONDS = 40
LOAD_SECONDS = 90  # find, validate, load and file away one small file, each an Airflow task of its own
FAULTY = ("probation__caseload", "direct_identifier")  # a column of NHS numbers nobody agreed to share
LATE_FILE_DATASET = "police__recorded_crime"


def _fresh_database(server_url: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return with_database(server_url, name)


def _drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _land(source, landing, staging) -> None:
    """Land one generated file as an agency would: the file, then its upload-complete marker."""
    target = landing / source.relative_to(staging)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    settings.upload_marker(target).touch()


def _batches(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select batch_id, dataset, file_name, status, finished_at from audit.load_batch order by batch_id"
        ).fetchall()


def settled(cluster) -> list[tuple]:
    """(timestamp, extra) of each announcement that loads have settled (settle_deliveries), oldest first: each
    queues a transform run, and its extra holds the newest loaded batch it covers."""
    return cluster.query(
        "select e.timestamp, e.extra from asset_event e join asset a on a.id = e.asset_id"
        " where a.uri = 'partnership://warehouse/raw-settled' order by e.timestamp"
    )


@pytest.fixture
def cluster_env(server_url, tmp_path, monkeypatch, dbt_manifest):
    url = _fresh_database(server_url, "pw_sched_wh")
    metadata = _fresh_database(server_url, "pw_sched_meta")
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WAREHOUSE_URL", url)
    warehouse.init_warehouse(url)
    yield url, metadata
    _drop_database(server_url, url)
    _drop_database(server_url, metadata)


def test_a_delivery_runs_unattended(cluster_env, tmp_path):
    url, metadata = cluster_env
    staging, landing = tmp_path / "generated", settings.landing_dir()
    # Two months at scale 3 hold about the counts of the shared pipeline run (six months at scale 1); at scale 0.1
    # or 1, a year of two months leaves disclosure control no cell to suppress, and it refuses to publish.
    files = generator.generate(staging, months=3, scale=3.0)
    # The delivery: the first two months of every dataset, one of them faulty. The third month of one dataset
    # lands later, between the watcher's polls.
    late_file = files[LATE_FILE_DATASET][2]
    delivery = [p for name, paths in files.items() for p in paths[:2]]
    faulty = files[FAULTY[0]][1]
    defects.inject(get_dataset(FAULTY[0]), faulty, FAULTY[1])
    with open(faulty, newline="") as f:
        planted_ids = [row[-1] for row in list(csv.reader(f))[1:]]
    assert len(delivery) >= 10

    with SmtpSink() as smtp:
        env = {
            **runner.airflow_environment(url),
            "AIRFLOW_CONN_SMTP_DEFAULT": smtp.connection(),
            "AIRFLOW_VAR_ALERT_RECIPIENTS_DATA_ENGINEERING": "data-engineering@partnership.invalid",
            "AIRFLOW_VAR_ALERT_RECIPIENTS_IG": "ig@partnership.invalid",
            "AIRFLOW_VAR_ALERT_RECIPIENTS_PROBATION": "probation-data-owner@partnership.invalid",
            "PARTNERSHIP_WATCH_SECONDS": str(WATCH_SECONDS),
            "PARTNERSHIP_SETTLE_QUIET_SECONDS": "15",
            "PARTNERSHIP_SETTLE_POKE_SECONDS": "5",
            "PARTNERSHIP_RETRY_DELAY_SECONDS": "5",
        }
        cluster = AirflowCluster(tmp_path / "airflow", metadata, env)
        (tmp_path / "airflow").mkdir()
        started = time.monotonic()

        def stage(name: str) -> None:  # shown with -s, and in the closing note's timings
            print(f"scheduler test: {name} at {time.monotonic() - started:.0f}s", flush=True)

        cluster.start()
        try:
            dag_ids = {f"ingest_{ds.name}" for ds in load_registry()} | {"transform_warehouse", "settle_deliveries"}
            cluster.wait_for(
                "the dag-processor to read every DAG",
                lambda: dag_ids <= {r[0] for r in cluster.query("select dag_id from dag")},
                timeout=120,
            )
            for path in delivery:
                _land(path, landing, staging)
            cluster.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y", ".*")
            stage(f"{len(delivery)} files landed, DAGs unpaused")

            # Every good file loads and the faulty one is quarantined, with nobody triggering a DAG.
            def delivery_done():
                batches = _batches(url)
                loaded = [b for b in batches if b[3] == "loaded"]
                quarantined = [b for b in batches if b[3] == "quarantined"]
                return (loaded, quarantined) if len(loaded) + len(quarantined) == len(delivery) else None

            loaded, quarantined = cluster.wait_for("the delivery to load", delivery_done, timeout=480)
            assert [(b[1], b[2]) for b in quarantined] == [(FAULTY[0], faulty.name)]
            stage("delivery loaded")
            # The executor's workers, which fork the task processes, hold the libraries docs/operating.md has the
            # scheduler preload (pandas, which GX imports, mapped in), where the scheduler itself never imports them.
            workers = cluster.descendants_titled("scheduler", "LocalExecutor:")
            scheduler = cluster.processes["scheduler"].pid
            assert workers and all("/pandas/_libs/" in Path(f"/proc/{pid}/maps").read_text() for pid in workers), (
                workers
            )
            assert "/pandas/_libs/" not in Path(f"/proc/{scheduler}/maps").read_text()

            # The delivery's transform records its inputs before its dbt build starts. A file that lands after that
            # (here, between the watcher's polls, while the build runs) is loaded at once, not when the build ends;
            # its rows may reach this build's tables, but not its recorded inputs, so the next build takes them.
            def inputs_taken():
                runs = cluster.dag_runs("transform_warehouse")
                if not runs:
                    return None
                taken = cluster.query(
                    "select state from task_instance where dag_id = 'transform_warehouse' and run_id = %s"
                    " and task_id = 'read_inputs'",
                    runs[0][0],
                )
                return runs if taken and taken[0][0] == "success" else None

            cluster.wait_for("the delivery's transform to take its inputs", inputs_taken, timeout=300)
            _land(late_file, landing, staging)
            landed_at = datetime.now(UTC)
            stage("late file landed during the transform")

            def late_file_loaded():
                return [b for b in _batches(url) if b[2] == late_file.name and b[3] == "loaded"]

            [late_batch] = cluster.wait_for("the late file to load", late_file_loaded, timeout=240)
            stage("late file loaded")
            late_runs = [r for r in cluster.dag_runs(f"ingest_{LATE_FILE_DATASET}") if r[3] >= landed_at]
            assert late_runs, "no ingest run was queued after the file landed"
            noticed = (late_runs[0][3] - landed_at).total_seconds()
            assert noticed <= WATCH_SECONDS + SCHEDULING_SLACK_SECONDS, f"noticed {noticed:.0f}s after landing"
            loaded_after = (late_batch[4] - landed_at).total_seconds()
            within = WATCH_SECONDS + SCHEDULING_SLACK_SECONDS + LOAD_SECONDS
            assert loaded_after <= within, f"loaded {loaded_after:.0f}s after landing"

            # One transform for the whole delivery, started once its loads were done; it succeeds.
            def transform_finished():
                runs = cluster.dag_runs("transform_warehouse")
                return runs if runs[0][1] in ("success", "failed") else None

            runs = cluster.wait_for("the transform to finish", transform_finished, timeout=1200, every=10)
            stage("transform finished")
            # Airflow holds a settled delivery's run back while a transform runs (max_active_runs=1) and merges such
            # announcements into one run, so the runs are not what to count: the announcements are.
            delivery_settled = [e for e in settled(cluster) if e[0] < landed_at]
            assert len(delivery_settled) == 1, f"{len(delivery_settled)} announcements for {len(delivery)} files"
            assert delivery_settled[0][1]["batch"] == max(b[0] for b in loaded), delivery_settled
            assert runs[0][1] == "success", cluster.query(
                "select task_id, state from task_instance where dag_id = 'transform_warehouse' and state != 'success'"
                " and run_id = %s",
                runs[0][0],
            )
            assert runs[0][3] > max(b[4] for b in loaded), "the transform was queued before the delivery's last load"
            assert late_batch[4] < runs[0][5], "the late file waited for the transform to end before it loaded"
            # Each dbt node's task passed in the triggerer: none took a worker process to read the build's result.
            node_tasks = cluster.query(
                "select count(*), count(pid), count(*) filter (where state = 'success') from task_instance"
                " where dag_id = 'transform_warehouse' and task_id like 'dbt.%%\\_build' and run_id = %s",
                runs[0][0],
            )
            assert node_tasks[0][0] > 100 and node_tasks[0][1:] == (0, node_tasks[0][0]), node_tasks

            # The IG report was rebuilt after the quarantine and shows it.
            report = settings.data_dir() / "reports" / "ig" / "index.html"
            cluster.wait_for(
                "the IG report to show the quarantine",
                lambda: report.exists() and faulty.name in report.read_text(),
                timeout=120,
            )
            # Mapped tasks are named by their file in the UI.
            shown = {
                r[0]
                for r in cluster.query(
                    "select rendered_map_index from task_instance where task_id = 'ingest_file.validate'"
                )
            }
            # (police.uk's "2024-04-<force>-street.csv" is more than the pattern and a period: withheld, as in alerts)
            assert {
                shown_file_name(get_dataset(name), p.name) for name, paths in files.items() for p in paths[:2]
            } <= shown

            # The quarantine alert reached the dataset's people, saying what to do and nothing of the file.
            alert = cluster.wait_for(
                "the quarantine alert",
                lambda: [m for m in smtp.messages if "Quarantined" in str(m["Subject"])],
                timeout=60,
            )
            assert len(alert) == 1
            body = smtp.text(alert[0])
            assert f"{FAULTY[0]} batch {quarantined[0][0]}" in str(alert[0]["Subject"])
            assert "probation-data-owner@partnership.invalid" in alert[0]["X-Envelope-To"]
            assert "ig@partnership.invalid" in alert[0]["X-Envelope-To"]
            assert faulty.name in body and f"partnership quarantine show {quarantined[0][0]}" in body
            everything_sent = "\n".join(str(m["Subject"]) + smtp.text(m) for m in smtp.messages)
            assert not [v for v in planted_ids if v in everything_sent]

            # The late file settles into a second transform, which builds what reads police recorded crime and
            # leaves the rest as the first build left it: those nodes' tasks are skipped after the build and never
            # start (no try); the others end in the triggerer.
            def second_transform_finished():
                runs = cluster.dag_runs("transform_warehouse")
                return runs if len(runs) == 2 and runs[1][1] in ("success", "failed") else None

            runs = cluster.wait_for("the second transform to finish", second_transform_finished, timeout=600, every=10)
            stage("second transform finished")
            assert runs[1][3] >= late_batch[4], "the second transform was queued before the late file had loaded"
            announced = settled(cluster)
            assert [e[1]["batch"] for e in announced] == [delivery_settled[0][1]["batch"], late_batch[0]], announced
            assert runs[1][1] == "success", cluster.query(
                "select task_id, state from task_instance where dag_id = 'transform_warehouse' and run_id = %s"
                " and state != 'success'",
                runs[1][0],
            )
            states = {
                task_id: (state, tries)
                for task_id, state, tries in cluster.query(
                    "select task_id, state, try_number from task_instance where dag_id = 'transform_warehouse'"
                    " and run_id = %s and task_id like 'dbt.%%\\_build' and pid is null",
                    runs[1][0],
                )
            }
            assert len(states) == node_tasks[0][0], "every node task ended in the triggerer, or never started"
            assert states["dbt.stg_police__recorded_crime_model_build"] == ("success", 1)
            assert states["dbt.ho_offence_codes_seed_build"] == ("skipped", 0)
            assert states["dbt.stg_council__asb_requests_model_build"] == ("skipped", 0)
            assert {tries for state, tries in states.values() if state == "skipped"} == {0}, "a skipped task started"
        finally:
            cluster.stop()
