"""How the pipeline's cost grows with the data: wall time and peak memory per stage at several scales (issue 14).

    uv run python benchmarks/scale.py [--scales 1 10] [--months 12] [--server URL] [--no-jit] [--keep]
    uv run python benchmarks/scale.py --scales 420      # about 5,000,000 police rows

For each scale, in a throwaway database on the server (default: the local one, or WAREHOUSE_URL's), it runs
the stages one after another, each in its own child process (the ANALYZE in this one), and times them:

1. generate:  `partnership generate` writes the synthetic extracts into a temporary landing zone;
2. ingest:    the ingest DAGs' own code (`loader.ingest_file`: the gate's contract, identifier screen and GX
              validation, then COPY into raw) for every landed file, dataset by dataset, in file-name order;
3. transform: as the transform DAG does, ANALYZE of the tables the loads changed, then one `dbt build` of the
              whole project (seeds, models, data and unit tests).

Scale 1 is about 1,000 police rows a month (the registry entry's generation.rows_per_month), so 12 months at scale 420
are about 5,040,000 rows. It prints, per stage, the wall time, the child's peak resident memory (os.wait4's
ru_maxrss: the Python or dbt process, not the PostgreSQL server's backends) and seconds per million police
rows, then dbt's five slowest models, and at the end one table over the scales: near-linear costs show as a
flat "s per million rows". --no-jit runs the transform with PostgreSQL's JIT compilation off (PGOPTIONS): on
these machines compiling the plans of the larger marts costs more than running them. The database and the
files are dropped at the end unless --keep. This is a benchmark, not a test: the timings depend on the machine
and on what else runs on it.
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

from partnership import runner, settings, transform_inputs, warehouse

POLICE_ROWS_PER_SCALE_MONTH = 1000  # the registry: police__recorded_crime generation.rows_per_month
SLOWEST_MODELS = 5


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def ingest_landed() -> None:
    """The ingest stage, run in a child process: every landed file through the real gate and loader."""
    from partnership import loader
    from partnership.registry import load_registry

    warehouse.init_warehouse()
    files = 0
    for ds in load_registry():
        for path in sorted((settings.landing_dir() / ds.landing_subdir).glob(ds.landing_pattern)):
            if not path.is_file() or path.name.endswith(".done"):
                continue
            result = loader.ingest_file(ds, path, loaded_by="benchmarks/scale.py")
            if result.status != "loaded":
                raise SystemExit(f"{path.name}: {result.status} (same content as batch {result.duplicate_of})")
            files += 1
    print(f"ingested {files} files", file=sys.stderr)


def run_stage(command: list[str], env: dict, cwd: Path | None = None) -> tuple[float, float]:
    """Run one stage as a child process; (wall seconds, the child's peak resident memory in MB)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, command)
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def one_scale(scale: float, months: int, server: str, keep: bool, jit: bool) -> dict:
    name = f"pw_bench_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server, name)
    folder = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    env = {
        **os.environ,
        **runner.dbt_environment(url),
        "PARTNERSHIP_DATA_DIR": str(folder),
        "WAREHOUSE_URL": url,
        # Navigator referrals carry NHS numbers: a key made for this run, as `partnership run` does for a demo.
        "PSEUDONYMISATION_KEY_NHS_NUMBER": os.environ.get("PSEUDONYMISATION_KEY_NHS_NUMBER", secrets.token_hex(32)),
        "PSEUDONYMISATION_KEY_LINKAGE": os.environ.get("PSEUDONYMISATION_KEY_LINKAGE", secrets.token_hex(32)),
    }
    bin_dir = Path(sys.executable).parent
    target = folder / "dbt-target"
    stages = {}
    try:
        print(f"\nscale {scale:g}, {months} months, database {name}", flush=True)
        stages["generate"] = run_stage(
            [str(bin_dir / "partnership"), "generate", "--months", str(months), "--scale", f"{scale:g}"], env
        )
        print(f"  generate  {stages['generate'][0]:8.1f} s", flush=True)
        stages["ingest"] = run_stage([sys.executable, __file__, "--ingest-stage"], env)
        print(f"  ingest    {stages['ingest'][0]:8.1f} s", flush=True)
        # The transform DAG's first step: statistics of what the loads changed (nothing here vacuums or analyses
        # them, as autovacuum would on a default server), so dbt's queries are planned on the data loaded.
        start = time.perf_counter()
        with psycopg.connect(warehouse.conninfo(url)) as conn:
            analysed = transform_inputs.analyze_loaded_tables(conn)
        analyze_seconds = time.perf_counter() - start
        build_seconds, build_rss = run_stage(
            [str(bin_dir / "dbt"), "build", "--target-path", str(target), "--quiet", "--no-use-colors"],
            env if jit else {**env, "PGOPTIONS": (env.get("PGOPTIONS", "") + " -c jit=off").strip()},
            cwd=settings.DBT_PROJECT_DIR,
        )
        stages["transform"] = (analyze_seconds + build_seconds, build_rss)
        print(
            f"  transform {stages['transform'][0]:8.1f} s (ANALYZE of {len(analysed)} loaded tables"
            f" {analyze_seconds:.1f} s, dbt build {build_seconds:.1f} s)",
            flush=True,
        )
        with psycopg.connect(warehouse.conninfo(url)) as conn:
            police_rows = conn.execute("select count(*) from raw.police__recorded_crime").fetchone()[0]
            database_mb = conn.execute("select pg_database_size(current_database()) / 1e6").fetchone()[0]
        results = json.loads((target / "run_results.json").read_text())["results"]
        models = {
            r["unique_id"].split(".", 2)[2]: r["execution_time"] for r in results if r["unique_id"].startswith("model.")
        }
    finally:
        if not keep:
            with psycopg.connect(warehouse.conninfo(server), autocommit=True) as conn:
                conn.execute(f'drop database if exists "{name}" with (force)')
            shutil.rmtree(folder, ignore_errors=True)

    per_million = 1e6 / police_rows
    print(f"  {police_rows:,} police rows; database {database_mb:,.0f} MB")
    print(f"  {'stage':10} {'wall s':>9} {'peak RSS MB':>12} {'s per M police rows':>20}")
    for stage, (wall, rss) in stages.items():
        print(f"  {stage:10} {wall:9.1f} {rss:12.0f} {wall * per_million:20.1f}")
    print(f"  {SLOWEST_MODELS} slowest models (dbt execution time)")
    for model, seconds in sorted(models.items(), key=lambda m: -m[1])[:SLOWEST_MODELS]:
        print(f"    {model:48} {seconds:7.2f} s {seconds * per_million:9.2f} s per M rows")
    return {"scale": scale, "police_rows": police_rows, "stages": stages, "models": models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--server", default=os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--no-jit", action="store_true", help="PostgreSQL's JIT compilation off (PGOPTIONS)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases and files")
    parser.add_argument("--ingest-stage", action="store_true", help=argparse.SUPPRESS)  # the ingest child
    args = parser.parse_args()
    if args.ingest_stage:
        ingest_landed()
        return

    runs = [one_scale(scale, args.months, args.server, args.keep, not args.no_jit) for scale in args.scales]

    jit = "off" if args.no_jit else "as the server is set"
    print(f"\n{os.cpu_count()} cores; JIT {jit}; peak RSS is the largest of the stages' child processes")
    print(
        f"{'scale':>6} {'police rows':>12} {'generate s':>11} {'ingest s':>9} {'transform s':>12} "
        f"{'peak RSS MB':>12} {'ingest s/M':>11} {'transform s/M':>14}"
    )
    for run in runs:
        s, per_million = run["stages"], 1e6 / run["police_rows"]
        print(
            f"{run['scale']:6g} {run['police_rows']:12,} {s['generate'][0]:11.1f} {s['ingest'][0]:9.1f} "
            f"{s['transform'][0]:12.1f} {max(rss for _, rss in s.values()):12.0f} "
            f"{s['ingest'][0] * per_million:11.1f} {s['transform'][0] * per_million:14.1f}"
        )
    largest = runs[-1]
    slowest = sorted(largest["models"], key=lambda m: -largest["models"][m])[:SLOWEST_MODELS]
    print(f"\nthe {SLOWEST_MODELS} slowest models at scale {largest['scale']:g}, seconds at each scale:")
    print(f"{'model':48} " + " ".join(f"{'scale ' + format(r['scale'], 'g'):>10}" for r in runs))
    for model in slowest:
        print(f"{model:48} " + " ".join(f"{r['models'].get(model, float('nan')):10.2f}" for r in runs))


if __name__ == "__main__":
    main()
