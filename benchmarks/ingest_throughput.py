"""The ingest gate's throughput against raw COPY and pandas (issue 14).

    uv run python benchmarks/ingest_throughput.py [--rows 500000] [--repeat 3] [--skip-pandas] [--server URL]
        [--police-uk DIR]

Builds a police.uk-shaped file of ``--rows`` rows from the real Surrey street files (their rows repeated, Month
set to one value, so the file passes the gate's period check), then, into a throwaway database it creates on the
server (default: the local one, or WAREHOUSE_URL's) and drops afterwards, times:

1. raw COPY: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the file's bytes into a fresh table of text
   columns: the physical limit;
2. the gate: ``loader.ingest_file`` for the registry's police_uk__street_crime dataset (identifier screen,
   contract, GX suite, COPY with its audit batch, filing away), in a child process whose peak resident memory
   (getrusage) is reported, with the time of each step (exclusive: a step's time excludes the steps it calls);
3. pandas: ``read_csv`` then ``to_sql(method="multi", chunksize=5000)`` (``--skip-pandas`` leaves it out).

1 and 2 run back to back ``--repeat`` times (default 3), each time into a new database; the repeat whose ratio is
the median is reported, with its gate's steps, and pandas runs once. Prints rows/s and the ratio to raw COPY for
each. Timings depend on the machine and its load (this machine's vary by a fifth to a third from hour to hour,
less between two runs a few seconds apart); this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from partnership import settings, warehouse

DATASET = "police_uk__street_crime"
FILE_NAME = "2022-11-surrey-street.csv"  # the month the gate's period check expects every row to carry
MONTH = "2022-11"


def with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def build_file(sources: list[Path], rows: int, target: Path) -> list[str]:
    """``rows`` data rows from the sources, repeated, every Month set to MONTH; returns the header. Each repeat
    gives its crimes new Crime IDs (64 hex digits, as police.uk's), so that, as in a real file, every crime's id
    is its own: the checks that see each distinct value once must see every id."""
    header, records = None, []
    for source in sources:
        with open(source, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader)
            month = header.index("Month")
            for record in reader:
                record[month] = MONTH
                records.append(record)
    crime_id = header.index("Crime ID")
    with open(target, "w", newline="", encoding="utf-8") as f:
        f.write(",".join(header) + "\n")
        writer = csv.writer(f, lineterminator="\n")
        for n in range(rows):
            record = records[n % len(records)]
            repeat = n // len(records)
            if repeat and record[crime_id]:
                record = record.copy()
                record[crime_id] = hashlib.sha256(f"{record[crime_id]}:{repeat}".encode()).hexdigest()
            writer.writerow(record)
    return header


def raw_copy(url: str, path: Path, header: list[str]) -> float:
    """Seconds to COPY the file's bytes into a fresh table of text columns, committed."""
    columns = ", ".join(f'"{h}" text' for h in header)
    with warehouse.connect(url) as conn:
        conn.execute(f"create table bench_copy ({columns})")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("copy bench_copy from stdin (format csv, header true)") as copy:
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
        conn.commit()
        return time.perf_counter() - start


def pandas_to_sql(url: str, path: Path) -> float:
    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(warehouse.conninfo(url).replace("postgresql://", "postgresql+psycopg://", 1))
    start = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    # 12 columns x 5,000 rows = 60,000 parameters per statement: under PostgreSQL's 65,535.
    frame.to_sql("bench_pandas", engine, index=False, method="multi", chunksize=5000)
    seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


# -- the gate, in a child process --------------------------------------------------------------------------

# (module, function, step): each call's time is the step's, less the time of timed steps it calls.
STEPS = [
    ("partnership.loader", "sha256_of", "checksum"),
    ("partnership.loader", "sha256_and_plain_lines", "checksum and plain-file check (one read)"),
    ("partnership.validation", "plain_lines", "plain-file check"),  # what screening imports when it runs
    ("partnership.validation.contract", "plain_lines", "plain-file check"),  # the contract's own check
    ("partnership.screening", "screen_file", "identifier screen"),
    ("partnership.gate", "check_contract", "contract"),
    ("partnership.validation.run", "_run_suite", "GX suite (with Data Docs)"),
    ("partnership.validation.run", "build_data_docs", "Data Docs"),
    ("partnership.batch_audit", "volume_check", "volume"),
    ("partnership.loader", "load", "COPY: audit batch and checks"),
    ("partnership.loader", "_copy_lines", "COPY: the rows sent and stored"),
    ("partnership.batch_audit", "duplicate_key_rows", "COPY: key check"),
    ("partnership.batch_audit", "superseded_months", "COPY: re-issue check"),
]


def _timed(times: dict, stack: list, step: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        stack.append(0.0)
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - start
            inner = stack.pop()
            times[step] = times.get(step, 0.0) + elapsed - inner
            if stack:
                stack[-1] += elapsed

    return wrapper


def gate_child(path: Path) -> None:
    """Run the gate on one landed file (WAREHOUSE_URL and PARTNERSHIP_DATA_DIR are set); print its result."""
    import importlib

    from partnership import loader
    from partnership.registry import get_dataset

    times: dict[str, float] = {}
    stack: list[float] = []
    for module, name, step in STEPS:
        target = importlib.import_module(module)  # a step that moved must fail here, not go untimed
        setattr(target, name, _timed(times, stack, step, getattr(target, name)))
    import great_expectations  # noqa: F401  (imported before the clock starts, as in a long-lived worker)

    start = time.perf_counter()
    outcome = loader.ingest_file(get_dataset(DATASET), path, loaded_by="benchmark")
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcome": outcome.to_xcom(), "seconds": total, "steps": times, "peak_mb": peak}))


def run_gate(url: str, path: Path, data: Path) -> dict:
    ds_subdir = "police_uk/street_crime"
    landing = data / "landing" / ds_subdir
    landing.mkdir(parents=True)
    landed = landing / path.name
    os.link(path, landed)  # the gate moves the landed file away; the original stays for the others
    settings.upload_marker(landed).touch()
    env = {**os.environ, "WAREHOUSE_URL": url, "PARTNERSHIP_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, __file__, "--gate-child", str(landed)], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-5000:])
        raise SystemExit("the gate failed")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--skip-pandas", action="store_true", help="leave out pandas to_sql (slow at 5M rows)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="raw COPY and the gate, back to back, this many times (median shown)"
    )
    parser.add_argument(
        "--server", default=os.environ.get("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    shared = settings.PROJECT_ROOT.parent / "shared" / "data" / "police_uk"
    default = shared if shared.is_dir() else settings.PROJECT_ROOT / "tests" / "data" / "police_uk"
    parser.add_argument("--police-uk", type=Path, default=default, help="folder of police.uk *-street.csv files")
    parser.add_argument("--gate-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.gate_child:
        gate_child(args.gate_child)
        return

    sources = sorted(args.police_uk.glob("*-street.csv"))
    if not sources:
        parser.error(f"no police.uk street files in {args.police_uk}")
    folder = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    rows = args.rows
    pairs: list[tuple[float, dict]] = []  # (raw COPY seconds, the gate's report), one per repeat
    try:
        path = folder / FILE_NAME
        header = build_file(sources, rows, path)
        size_mb = path.stat().st_size / 1e6
        print(f"{rows:,} police.uk rows ({size_mb:,.0f} MB) from {len(sources)} Surrey files, month {MONTH}")
        print(f"\n{'repeat':8} {'raw COPY s':>10} {'gate s':>8} {'gate/COPY':>10}", flush=True)
        for repeat in range(1, args.repeat + 1):
            # A database and a data folder of its own each time: the gate would skip content already loaded.
            with throwaway_database(args.server) as url:
                copy_s = raw_copy(url, path, header)
                gate = run_gate(url, path, folder / f"data-{repeat}")
                assert gate["outcome"].get("batch_id") and gate["outcome"]["rows"] == rows, gate["outcome"]
                with warehouse.connect(url) as conn:
                    loaded = conn.execute("select count(*) from raw.police_uk__street_crime").fetchone()[0]
                assert loaded == rows, loaded
                pandas_s = pandas_to_sql(url, path) if not args.skip_pandas and repeat == 1 else None
            pairs.append((copy_s, gate))
            print(f"{repeat:<8} {copy_s:10.2f} {gate['seconds']:8.2f} {copy_s / gate['seconds']:9.3f}x", flush=True)
            if pandas_s is not None:
                first_pandas = pandas_s
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    # Each repeat runs raw COPY and the gate back to back, so a pair's ratio is what a slower or faster hour of
    # the machine leaves least changed; the median pair is reported (its gate's steps below).
    ranked = sorted(pairs, key=lambda pair: pair[0] / pair[1]["seconds"])
    copy_s, gate = ranked[len(ranked) // 2]  # of an even number, the upper of the two middle ones
    print(f"\nthe {'median' if len(pairs) % 2 else 'upper median'} of {len(pairs)} repeat(s):")
    print(f"{'contender':44} {'seconds':>8} {'rows/s':>10} {'vs COPY':>8}")

    def show(label: str, seconds: float) -> None:
        print(f"{label:44} {seconds:8.2f} {rows / seconds:10,.0f} {copy_s / seconds:7.3f}x", flush=True)

    show("raw COPY of the file", copy_s)
    show("the gate: loader.ingest_file", gate["seconds"])
    if not args.skip_pandas:
        show("pandas read_csv + to_sql(multi, 5000), once", first_pandas)
        print(f"the gate is {first_pandas / gate['seconds']:.1f}x pandas to_sql")
    peak = max(g["peak_mb"] for _, g in pairs)
    print(f"peak RSS of the gate's process: {peak:,.0f} MB, the highest of the repeats (file {size_mb:,.0f} MB)")
    print("\nthe gate's steps (exclusive seconds):")
    steps = gate["steps"]
    for step, seconds in sorted(steps.items(), key=lambda s: -s[1]):
        print(f"  {step:40} {seconds:7.2f}")
    print(f"  {'other (audit queries, moves, set-up)':40} {gate['seconds'] - sum(steps.values()):7.2f}")


@contextlib.contextmanager
def throwaway_database(server: str):
    """A new database on the server, with the warehouse's schemas, dropped afterwards."""
    name = f"pw_bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server, name)
    try:
        warehouse.init_warehouse(url)
        yield url
    finally:
        with psycopg.connect(warehouse.conninfo(server), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
