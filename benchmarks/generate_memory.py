"""Peak memory and time of the generator at large scale (issue 3's target: 5 million police rows in under
500 MB).

    uv run python benchmarks/generate_memory.py [--police-rows 5000000] [--months 12]

Runs `partnership generate` in a child process into a temporary folder and reports the child's peak
resident memory (getrusage), its wall time, and the police rows it wrote. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLICE_ROWS_PER_SCALE_MONTH = 1000  # the registry: police__recorded_crime generation.rows_per_month


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--police-rows", type=int, default=5_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    scale = args.police_rows / (POLICE_ROWS_PER_SCALE_MONTH * args.months)

    folder = Path(tempfile.mkdtemp(prefix="generate-bench-"))
    env = {**os.environ, "PARTNERSHIP_DATA_DIR": str(folder)}
    command = [
        str(Path(sys.executable).with_name("partnership")),
        "generate",
        "--months",
        str(args.months),
        "--scale",
        f"{scale:.3f}",
    ]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB

    crimes = folder / "landing" / "police" / "recorded_crime"
    rows = sum(sum(1 for _ in open(f, "rb")) - 1 for f in crimes.glob("*.csv"))
    size_mb = sum(f.stat().st_size for f in folder.rglob("*.csv")) / 1e6
    print(f"scale {scale:.1f}, {args.months} months: {rows:,} police rows, {size_mb:,.0f} MB of extracts")
    print(f"peak memory {peak_mb:,.0f} MB (target < 500 MB), wall time {elapsed:,.0f} s")
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
