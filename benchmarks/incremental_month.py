"""What loading one more month costs dbt, with the large fact models incremental by load batch (issue 5).

    uv run python benchmarks/incremental_month.py [--months 12] [--scale 1] [--only DATASET ...] [--dag]
        [--server URL] [--keep]

In a throwaway database on the server (default: the local one, or WAREHOUSE_URL's), it generates months + 1
months of extracts, loads the first `months` with the loader (the ingest DAGs' own code; loading is not timed),
then times three `dbt build`s of the project as the transform DAG builds it (models, seeds and data tests; unit
tests run where the SQL changes, not in production builds):

1. the first, full build of `months` months;
2. after one more month is loaded (of every dataset, or of the ``--only`` ones: one agency's delivery): the build
   leaves out the nodes whose inputs did not change (transform_inputs.unchanged_nodes, as the DAG does), and the
   incremental models add that month's batch only;
3. the same data rebuilt with --full-refresh: what every month would cost if the models were tables.

For each it prints the whole build's wall time and, per incremental model, dbt's execution time and the rows
the build wrote (dbt's rows_affected).

With ``--dag``, the three builds are runs of the transform DAG instead (``dag.test()``, as `partnership run` runs
it, Airflow's metadata in SQLite in the data folder): its ``read_inputs`` decides what the second leaves out, and
the third is a ``full_build`` run. Each is timed from the run's start to its end, after the DAGs are written to
the metadata DB and dbt, GX and Airflow's execution API are imported (`partnership run` does both before its
transform); it prints each run's time and its node tasks by state, and whether they started.

This is a benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from partnership import loader, runner, settings, transform_inputs, warehouse
from partnership.demo.generator import generate, month_starts
from partnership.registry import get_dataset


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def load(files: list[Path]) -> int:
    rows = 0
    for dataset, path in files:
        result = loader.ingest_file(get_dataset(dataset), path)
        assert result.status == "loaded", (path, result)
        rows += result.rows
    return rows


def build(url: str, target: Path, *extra: str, left_out: tuple[str, ...] = ()) -> dict:
    """`dbt build` as the transform DAG runs it, without ``left_out`` (node names); its wall seconds, and per
    incremental model dbt's seconds and the rows it wrote."""
    env = {**os.environ, **runner.dbt_environment(url)}
    dbt = Path(sys.executable).with_name("dbt")
    # dbt's partial parse from the build before, as cosmos keeps it between the transform's runs
    earlier = sorted(target.parent.glob("target-*/partial_parse.msgpack"), key=lambda path: path.stat().st_mtime)
    if earlier:
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(earlier[-1], target / "partial_parse.msgpack")
    start = time.perf_counter()
    subprocess.run(
        [str(dbt), "build", "--target-path", str(target), "--quiet", *extra]
        + ["--exclude", " ".join(("resource_type:unit_test", *left_out))],
        cwd=settings.DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - start
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    incremental = {
        manifest[r["unique_id"]]["name"]: (r["execution_time"], (r.get("adapter_response") or {}).get("rows_affected"))
        for r in results
        if r["unique_id"].startswith("model.") and manifest[r["unique_id"]]["config"]["materialized"] == "incremental"
    }
    models = sum(1 for r in results if r["unique_id"].startswith("model."))
    by_kind: dict[str, list[float]] = {}  # resource type: [nodes, seconds of dbt's execution time]
    for r in results:
        kind = by_kind.setdefault(r["unique_id"].split(".", 1)[0], [0, 0.0])
        kind[0] += 1
        kind[1] += r["execution_time"]
    return {"wall": wall, "incremental": incremental, "models": models, "nodes": len(results), "by_kind": by_kind}


# Runs in a fresh interpreter (Airflow reads its environment once): the transform DAG, once, with the conf given.
TRANSFORM_DAG = """
import json, os, sys, time
from partnership import runner
os.environ.update(runner.airflow_environment(os.environ["WAREHOUSE_URL"]))
if sys.argv[2] == "parse":  # the first run: dbt's partial-parse file made against this database, as `make run` has it
    runner.dbt("parse", url=os.environ["WAREHOUSE_URL"])
else:
    runner.ensure_manifest(os.environ["WAREHOUSE_URL"])
runner.migrate_airflow_db()
dags = runner.load_dags()
runner.sync_dags_to_metadata_db()
runner.WarmUp().join()
start = time.perf_counter()
state = runner.run_dag(dags["transform_warehouse"], conf=json.loads(sys.argv[1]))
seconds = time.perf_counter() - start

from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

with create_session() as session:
    run_id = session.scalars(select(DagRun.run_id).where(DagRun.dag_id == "transform_warehouse")
                             .order_by(DagRun.id.desc()).limit(1)).one()
    tasks = session.execute(select(TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number)
                            .where(TaskInstance.dag_id == "transform_warehouse", TaskInstance.run_id == run_id)).all()
nodes = {}
for task_id, task_state, tries in tasks:
    if task_id.endswith("_build"):
        key = f"{task_state} ({'started' if tries else 'never started'})"
        nodes[key] = nodes.get(key, 0) + 1
print(json.dumps({"state": state, "wall": seconds, "node_tasks": nodes}))
"""


def transform_dag(full_build: bool = False, *, first: bool = False) -> dict:
    """One run of the transform DAG in a fresh process: its state, wall seconds and node tasks by state. Before
    the first, the project is parsed against this database (untimed), as `partnership run` parses it before its
    first build: a partial-parse file made against another database makes dbt parse the whole project again."""
    done = subprocess.run(
        [sys.executable, "-c", TRANSFORM_DAG, json.dumps({"full_build": full_build}), "parse" if first else "-"],
        env=os.environ,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit("the transform DAG's run raised")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["state"] == "success", result
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", nargs="+", metavar="DATASET", help="the new month of these datasets only")
    parser.add_argument(
        "--server", default=os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--dag", action="store_true", help="build with the transform DAG, not dbt directly")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()

    name = f"pw_bench_incremental_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(args.server), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(args.server, name)
    folder = Path(tempfile.mkdtemp(prefix="incremental-bench-"))
    os.environ["PARTNERSHIP_DATA_DIR"] = str(folder)  # the landing zone the loader takes files from, and processed/
    os.environ["WAREHOUSE_URL"] = url
    # Navigator referrals carry NHS numbers: a key made for this run, as `partnership run` does for a demo.
    os.environ.setdefault("PSEUDONYMISATION_KEY_NHS_NUMBER", secrets.token_hex(32))
    os.environ.setdefault("PSEUDONYMISATION_KEY_LINKAGE", secrets.token_hex(32))  # people's details are linked
    try:
        warehouse.init_warehouse(url)
        # Into the landing zone: the loader takes a dataset's files from its own landing folder only.
        files = generate(settings.landing_dir(), months=args.months + 1, scale=args.scale)
        new_month = f"{month_starts('2024-04', args.months + 1)[-1]:%Y-%m}"
        every = [(d, p) for d, paths in files.items() for p in paths]
        earlier = [(d, p) for d, p in every if new_month not in p.name]
        later = [(d, p) for d, p in every if new_month in p.name and (not args.only or d in args.only)]

        start = time.perf_counter()
        rows = load(earlier)
        print(f"loaded {args.months} months, {len(earlier)} files, {rows} rows in {time.perf_counter() - start:.0f} s")
        if args.dag:
            full = transform_dag(first=True)
            rows = load(later)
            print(f"loaded one more month ({new_month}): {len(later)} files, {rows} rows")
            runs = [
                (f"first build ({args.months} months)", full),
                ("one more month", transform_dag()),
                (f"same {args.months + 1} months, full_build", transform_dag(full_build=True)),
            ]
            print(f"\nscale {args.scale}; the transform DAG under dag.test()")
            for label, run in runs:
                tasks = ", ".join(f"{n} {state}" for state, n in sorted(run["node_tasks"].items()))
                print(f"{label:36} {run['wall']:6.1f} s   node tasks: {tasks}")
            print(f"one more month: {runs[1][1]['wall'] / runs[0][1]['wall']:.0%} of the first build")
            return
        # As the DAG's first build: from a partial-parse file made against this database (untimed).
        runner.dbt("parse", "--target-path", str(folder / "target-parse"), url=url)
        full = build(url, folder / "target-full")
        manifest = folder / "target-full" / "manifest.json"
        with warehouse.connect(url) as conn:
            built = transform_inputs.fingerprint(conn, manifest)
        rows = load(later)
        print(f"loaded one more month ({new_month}): {len(later)} files, {rows} rows")
        with warehouse.connect(url) as conn:
            unchanged = transform_inputs.unchanged_nodes(manifest, built, transform_inputs.fingerprint(conn, manifest))
        print(f"left out of the next build, their inputs unchanged: {len(unchanged)} models, seeds and snapshots")
        left_out = tuple(uid.split(".")[-1] for uid in unchanged)
        incremental = build(url, folder / "target-incremental", left_out=left_out)
        refresh = build(url, folder / "target-refresh", "--full-refresh")
    finally:
        if not args.keep:
            with psycopg.connect(warehouse.conninfo(args.server), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(folder, ignore_errors=True)

    runs = [
        (f"first build ({args.months} months)", full),
        ("one more month, incremental", incremental),
        (f"same {args.months + 1} months, --full-refresh", refresh),
    ]
    print(f"\nscale {args.scale}; whole project: {full['models']} models, {full['nodes']} nodes with seeds and tests")
    print(f"{'build':36} {'whole project s':>16} {'incremental models s':>21}")
    for label, run in runs:
        seconds = sum(t for t, _ in run["incremental"].values())
        print(f"{label:36} {run['wall']:16.1f} {seconds:21.2f}")
    print(f"\n{'nodes by kind: count, summed execution s':40} " + " ".join(f"{label[:24]:>26}" for label, _ in runs))
    for kind in sorted(full["by_kind"]):
        counts = [run["by_kind"].get(kind, [0, 0.0]) for _, run in runs]
        cells = [f"{nodes:5d} {seconds:8.1f} s" for nodes, seconds in counts]
        print(f"{kind:40} " + " ".join(f"{c:>26}" for c in cells))
    print(f"\n{'incremental model':40} " + " ".join(f"{label[:24]:>26}" for label, _ in runs))
    for model in sorted(full["incremental"]):
        cells = []
        for _, run in runs:
            if model not in run["incremental"]:
                cells.append("left out")
                continue
            seconds, written = run["incremental"][model]
            cells.append(f"{seconds:7.2f} s {written if written is not None else '?':>9} rows")
        print(f"{model:40} " + " ".join(f"{c:>26}" for c in cells))


if __name__ == "__main__":
    main()
