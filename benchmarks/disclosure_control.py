"""What disclosure control costs: time, and the information it withholds (issue 10).

    WAREHOUSE_URL=... uv run python benchmarks/disclosure_control.py [--repeat 3]

Reads the publish candidates in `publish_staging` of a built warehouse (after `partnership run --keep-running`,
`partnership warehouse url` gives the embedded one's URL), then times, in this process and without writing
anything: building the attacker's system over all publish tables, the protection, and the attacker's audit of
the protected tables. It prints, per publish table, the count cells, how many are from 1 to 9 (primary) and how
many are suppressed in all, with the share: the information lost to protection. This is a benchmark, not a
test: the timings depend on the machine, the shares on the data's scale.
"""

from __future__ import annotations

import argparse
import statistics
import time

from partnership import disclosure, disclosure_audit, publish, warehouse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (the median is printed)")
    args = parser.parse_args()

    decls = publish.declarations()
    with warehouse.connect() as conn:
        tables, pairs = publish.read_tables(conn, publish.STAGING_SCHEMA, decls, published=False)

    timings: dict[str, list[float]] = {"build": [], "protect": [], "audit": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        system = disclosure.build_system(tables, pairs, include_rates=False)
        built = time.perf_counter()
        protection = disclosure.protect(system)
        protected = time.perf_counter()
        published = {
            name: disclosure.Table(t.declaration, disclosure.apply(t, protection), published=True)
            for name, t in tables.items()
        }
        result = disclosure_audit.audit_tables(published, pairs)
        audited = time.perf_counter()
        timings["build"].append(built - started)
        timings["protect"].append(protected - built)
        timings["audit"].append(audited - protected)
        if not result.ok:
            print("the audit failed:", *result.findings[:10], sep="\n  ")
            return 1

    print(f"{'publish table':42} {'count cells':>11} {'1 to 9':>7} {'suppressed':>10} {'share':>6}")
    all_cells = all_suppressed = 0
    for name in sorted(tables):
        cells = [c for c, kind in system.cells.items() if kind == "count" and c[0] == name]
        suppressed = sum(c in protection.suppressed for c in cells)
        primary = sum(c in protection.primary for c in cells)
        all_cells += len(cells)
        all_suppressed += suppressed
        share = 100.0 * suppressed / len(cells) if cells else 0.0
        print(f"{name:42} {len(cells):11} {primary:7} {suppressed:10} {share:5.1f}%")
    overall = 100.0 * all_suppressed / all_cells
    print(f"{'all publish tables':42} {all_cells:11} {'':7} {all_suppressed:10} {overall:5.1f}%")
    print(f"\n{len(system.relations)} relations, {protection.rounds} rounds of secondary suppression")
    for step, values in timings.items():
        print(f"{step:8} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
