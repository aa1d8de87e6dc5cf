"""The identifier screen measured (issue 11): false alarms, catches and throughput.

    uv run python benchmarks/identifier_screen.py [--police-uk DIR] [--months 2] [--scale 1]

1. False alarms, which must be 0: every finding on the real police.uk street files (default: the shared
   copies in ../shared/data/police_uk beside the checkout, else tests/data/police_uk) and on extracts that
   `partnership generate` writes into a temporary folder, screened as the gate screens them (the registry's
   dataset, its file name and header too).
2. Catches, which must be all: the crafted variants of tests/synthetic_ids.py (NHS numbers with every kind of
   separator and label, phones, postcodes, dates of birth, UPNs, PNC IDs, emails and names in free text),
   each put into a free-text cell of an otherwise ordinary file.
3. Throughput of screen_file over each set of files (rows and MB per second; timings depend on the machine).

Prints labels and counts, never a value. Exits 1 when there is a false alarm or a miss.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

from partnership import screening, settings
from partnership.demo.generator import generate
from partnership.registry import get_dataset

TESTS_DIR = settings.PROJECT_ROOT / "tests"
sys.path.insert(0, str(TESTS_DIR))
from synthetic_ids import crafted_variants  # noqa: E402


def screen(files: list[tuple[str, Path]]) -> tuple[list[str], int, int, float]:
    """(false alarms as 'file: finding', rows, bytes, seconds) for (dataset, path) pairs."""
    alarms, rows, size = [], 0, 0
    start = time.perf_counter()
    for dataset, path in files:
        ds = get_dataset(dataset)
        findings = screening.screen_file_name(path.name) + screening.screen_file(path, ds)
        alarms += [f.describe(path.name) for f in findings]
    seconds = time.perf_counter() - start
    for _, path in files:
        size += path.stat().st_size
        with open(path, "rb") as f:
            rows += sum(1 for _ in f) - 1
    return alarms, rows, size, seconds


def report(title: str, files: list[tuple[str, Path]]) -> int:
    alarms, rows, size, seconds = screen(files)
    print(
        f"{title}: {len(files)} files, {rows:,} rows, {size / 1e6:.1f} MB in {seconds:.2f} s "
        f"({rows / seconds:,.0f} rows/s, {size / 1e6 / seconds:.2f} MB/s); false alarms: {len(alarms)}"
    )
    for alarm in alarms:
        print("  FALSE ALARM", alarm)
    return len(alarms)


def catches(folder: Path) -> int:
    """Each crafted variant in row 3 of a file's free-text column; returns the misses."""
    variants = crafted_variants()
    misses = []
    for label, value, rule in variants:
        path = folder / "crafted_2024-04.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows([["case_id", "notes"], ["YJ1", "Other"], ["YJ2", value]])
        found = screening.screen_file(path)
        if not any(rule in x.rule and x.rows == [3] for x in found):
            misses.append(label)
    print(f"crafted variants: {len(variants) - len(misses)} of {len(variants)} caught")
    for label in misses:
        print("  MISSED", label)
    return len(misses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = settings.PROJECT_ROOT.parent / "shared" / "data" / "police_uk"
    default = shared if shared.is_dir() else TESTS_DIR / "data" / "police_uk"
    parser.add_argument("--police-uk", type=Path, default=default, help="folder of police.uk *-street.csv files")
    parser.add_argument("--months", type=int, default=2, help="months of generated extracts")
    parser.add_argument("--scale", type=float, default=1.0, help="generator scale")
    args = parser.parse_args()

    police = [("police_uk__street_crime", p) for p in sorted(args.police_uk.glob("*-street.csv"))]
    if not police:
        parser.error(f"no police.uk street files in {args.police_uk}")
    failures = report(f"police.uk ({args.police_uk})", police)
    with tempfile.TemporaryDirectory() as tmp:
        written = generate(Path(tmp) / "landing", months=args.months, scale=args.scale)
        generated = [(name, p) for name, paths in sorted(written.items()) for p in paths]
        failures += report(f"generated ({args.months} months, scale {args.scale:g})", generated)
        failures += catches(Path(tmp))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
