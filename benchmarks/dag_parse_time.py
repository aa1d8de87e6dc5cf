"""How long each DAG file takes to parse, cold, as Airflow's dag-processor pays it.

    uv run python benchmarks/dag_parse_time.py [--repeat 5]

Every measurement is a fresh Python process that first imports Airflow (the dag-processor has it loaded
already), then times DagBag on one file: that includes importing cosmos, GX-free task code and the
partnership package, everything the file pulls in. Target (issue 2): under one second per file. This is a
benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"

PROBE = """
import sys, time
from airflow.dag_processing.dagbag import DagBag
import airflow.sdk
start = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - start
assert not bag.import_errors, bag.import_errors
print(elapsed, len(bag.dags))
"""


def parse_once(path: Path, env: dict) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[-2]), int(out[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = {
        **os.environ,
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="parse-bench-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    print(f"{'DAG file':28} {'median s':>9} {'max s':>7}  DAGs")
    for path in sorted(DAGS.glob("*.py")):
        runs = [parse_once(path, env) for _ in range(args.repeat)]
        times = [t for t, _ in runs]
        print(f"{path.name:28} {statistics.median(times):9.3f} {max(times):7.3f}  {runs[0][1]}")


if __name__ == "__main__":
    main()
