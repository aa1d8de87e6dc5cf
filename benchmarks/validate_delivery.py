"""What validating a delivery of small files costs: the GX step's fixed cost per file, not its cost per row.

    uv run python benchmarks/validate_delivery.py [--months 12] [--scale 1] [--repeat 3]

Generates `months` months of every dataset (the default is `make run`'s year: 172 files, most of a few hundred
rows) into a throwaway folder, then runs `validation.validate_file` (contract, the GX suite, the file's Data
Docs pages) over every file, in one process as an ingest DAG does, `repeat` times after one warm-up pass that
imports GX. Prints seconds per file, per dataset and in all. A dataset sent with direct identifiers is
validated as the gate validates it, as its pseudonymised copy (made first, with throwaway keys, not timed).
This is a benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="validate-delivery-") as folder:
        os.environ["PARTNERSHIP_DATA_DIR"] = str(Path(folder) / "data")
        from partnership import pseudonymise, validation
        from partnership.demo.generator import generate
        from partnership.registry import get_dataset

        for id_type in pseudonymise.id_types():
            os.environ[pseudonymise.env_name(id_type)] = secrets.token_hex(32)
        written = generate(Path(folder) / "landing", months=args.months, scale=args.scale)
        files = []
        for name, paths in written.items():
            ds = get_dataset(name)
            pseudonymised = any(c.pseudonymise for c in ds.columns)
            files += [(ds, pseudonymise.pseudonymise_file(ds, p).path if pseudonymised else p) for p in paths]
        print(f"{len(files)} files, {args.months} months at scale {args.scale}")

        failed: set[str] = set()

        def validate_all() -> dict[str, float]:
            seconds: dict[str, float] = {}
            for ds, path in files:
                start = time.perf_counter()
                if not validation.validate_file(ds, path).success:
                    failed.add(path.name)
                seconds[ds.name] = seconds.get(ds.name, 0.0) + time.perf_counter() - start
            return seconds

        validate_all()  # warm-up: imports GX, compiles its templates
        if failed:  # a failing file costs a second GX run; the gate's figures are for files that pass
            print(f"{len(failed)} files did not pass: {', '.join(sorted(failed)[:5])}")
        runs = [validate_all() for _ in range(args.repeat)]

    per_dataset = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    counts = {name: sum(1 for ds, _ in files if ds.name == name) for name in per_dataset}
    print(f"\n{'dataset':36} {'files':>5} {'s per file':>10}")
    for name, seconds in sorted(per_dataset.items(), key=lambda item: -item[1]):
        print(f"{name:36} {counts[name]:5} {seconds / counts[name]:10.3f}")
    totals = [sum(run.values()) for run in runs]
    print(
        f"\nall {len(files)} files: {', '.join(f'{t:.1f}' for t in totals)} s ({args.repeat} runs); median "
        f"{statistics.median(totals) / len(files):.3f} s per file"
    )


if __name__ == "__main__":
    main()
