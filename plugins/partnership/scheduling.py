"""When DAGs run unattended: files are noticed within minutes, and one delivery gives one transform.

watch_landing (every PARTNERSHIP_WATCH_SECONDS, default 10 minutes) announces each dataset whose landing folder
holds files an ingest run would take, by the dataset's landing Asset; the ingest DAG is scheduled on it (and daily).
A file already announced is not announced again while it waits (the ingest DAG's daily run still picks it up).

settle_deliveries runs on any raw-table Asset (a load, a retention deletion). It waits until the delivery is
done (no file waits in any landing folder and nothing has loaded for PARTNERSHIP_SETTLE_QUIET_SECONDS, or at most
PARTNERSHIP_SETTLE_MAX_WAIT_SECONDS), then emits the settled Asset, which starts the transform, only if something
changed since the last settled event. So ten files landing together, loaded by several ingest runs, give one
transform run; the extra settle runs the other loads queued find nothing new and end there.

Nothing here touches a database or the landing folders when the DAG files are parsed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import AssetAlias, AssetAny, PokeReturnValue, dag, task

from partnership.dag_defaults import (
    DEFAULT_ARGS,
    RELAY_TAG,
    SETTLED_ASSET,
    START_DATE,
    landing_asset,
    raw_assets,
)

log = logging.getLogger(__name__)


def _seconds(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


WATCH_SECONDS = _seconds("PARTNERSHIP_WATCH_SECONDS", 600)
SETTLE_QUIET_SECONDS = _seconds("PARTNERSHIP_SETTLE_QUIET_SECONDS", 120)
SETTLE_POKE_SECONDS = _seconds("PARTNERSHIP_SETTLE_POKE_SECONDS", 30)
SETTLE_MAX_WAIT_SECONDS = _seconds("PARTNERSHIP_SETTLE_MAX_WAIT_SECONDS", 7200)
LANDED = AssetAlias(name="landed files")
# Airflow Variables holding the watcher's and the settler's state between runs.
ANNOUNCED_VARIABLE = "watch_landing_announced"
SETTLED_VARIABLE = "settle_deliveries_watermark"


def landed_fingerprints() -> dict[str, str]:
    """Per dataset with files waiting, a digest of those files' names, sizes and times (no content is read)."""
    from partnership import loader
    from partnership.registry import load_registry

    found = {}
    for ds in load_registry():
        stamp = []
        for p in loader.awaiting_files(ds):
            try:
                stat = p.stat()
            except FileNotFoundError:  # loaded meanwhile
                continue
            stamp.append(f"{p.name}:{stat.st_size}:{stat.st_mtime_ns}")
        if stamp:
            found[ds.name] = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    return found


def delivery_busy(quiet_seconds: int) -> str | None:
    """Why the delivery is not done yet (files wait to be loaded, or a load finished moments ago), or None."""
    from partnership import loader, warehouse
    from partnership.registry import load_registry

    waiting = {ds.name: n for ds in load_registry() if (n := len(loader.awaiting_files(ds)))}
    if waiting:
        return "files wait in landing: " + ", ".join(f"{name} ({n})" for name, n in sorted(waiting.items()))
    with warehouse.connect() as conn:
        (ago,) = conn.execute(
            "select extract(epoch from clock_timestamp() - max(finished_at)) from audit.load_batch"
            " where status = 'loaded'"
        ).fetchone()
    if ago is not None and ago < quiet_seconds:
        return f"the last load finished {ago:.0f} s ago (quiet period {quiet_seconds} s)"
    return None


def warehouse_watermark() -> dict[str, int]:
    """What the transform has to catch up with: the newest loaded batch and the newest retention deletion."""
    from partnership import warehouse

    with warehouse.connect() as conn:
        batch, deletion = conn.execute(
            "select (select coalesce(max(batch_id), 0) from audit.load_batch where status = 'loaded'),"
            " (select coalesce(max(deletion_id), 0) from audit.retention_deletion)"
        ).fetchone()
    return {"batch": int(batch), "deletion": int(deletion)}


def build_watch_dag():
    @dag(
        dag_id="watch_landing",
        description="Announces datasets whose landing folder holds new files, so their ingest runs within minutes.",
        schedule=timedelta(seconds=WATCH_SECONDS),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "retries": 0},  # the next poll is the retry
        tags=["ingest", RELAY_TAG],
    )
    def watch_landing():
        # First in the executor's queue: a busy transform must not delay noticing files.
        @task(outlets=[LANDED], priority_weight=1000, weight_rule="absolute")
        def announce_landed_files(*, outlet_events) -> list[str]:
            from airflow.sdk import Variable

            from partnership.registry import get_dataset

            before = json.loads(Variable.get(ANNOUNCED_VARIABLE, default="{}"))
            now = landed_fingerprints()
            new = sorted(name for name, stamp in now.items() if before.get(name) != stamp)
            for name in new:
                outlet_events[LANDED].add(landing_asset(get_dataset(name)))
            Variable.set(ANNOUNCED_VARIABLE, json.dumps(now))
            return new

        announce_landed_files()

    return watch_landing()


def build_settle_dag():
    @dag(
        dag_id="settle_deliveries",
        description="Waits until a delivery's loads are done, then starts one transform for all of them.",
        schedule=AssetAny(*raw_assets()),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["transform", RELAY_TAG],
    )
    def settle_deliveries():
        @task.sensor(poke_interval=SETTLE_POKE_SECONDS, mode="reschedule", timeout=SETTLE_MAX_WAIT_SECONDS + 3600)
        def wait_for_quiet(**context) -> PokeReturnValue:
            started = context["dag_run"].start_date or datetime.now(UTC)
            busy = delivery_busy(SETTLE_QUIET_SECONDS)
            if busy and datetime.now(UTC) - started < timedelta(seconds=SETTLE_MAX_WAIT_SECONDS):
                log.info("waiting: %s", busy)
                return PokeReturnValue(is_done=False)
            if busy:
                log.warning("transforming after %ss although %s", SETTLE_MAX_WAIT_SECONDS, busy)
            return PokeReturnValue(is_done=True)

        @task(outlets=[SETTLED_ASSET], multiple_outputs=False)  # one XCom, not one more per field
        def announce_settled(*, outlet_events) -> dict:
            from airflow.sdk import Variable
            from airflow.sdk.exceptions import AirflowSkipException

            last = json.loads(Variable.get(SETTLED_VARIABLE, default="{}"))
            now = warehouse_watermark()
            if last and all(now[k] <= last.get(k, 0) for k in now):
                raise AirflowSkipException(f"nothing loaded or deleted since the last transform was started ({last})")
            outlet_events[SETTLED_ASSET].extra = now
            Variable.set(SETTLED_VARIABLE, json.dumps(now))
            return now

        wait_for_quiet() >> announce_settled()

    return settle_deliveries()
