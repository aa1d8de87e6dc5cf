"""What loading one more month costs dbt, with the large fact models incremental by load batch (issue 5).

    uv run python benchmarks/incremental_month.py [--months 12] [--scale 1] [--only DATASET ...] [--server URL]
        [--keep]

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
the build wrote (dbt's rows_affected). This is a benchmark, not a test: timings depend on the machine.
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
    earlier = sorted(target.parent.glob("target-*/partial_parse.msgpack"))
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", nargs="+", metavar="DATASET", help="the new month of these datasets only")
    parser.add_argument(
        "--server", default=os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
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
