"""What disclosure control costs: time, and the information it withholds (issue 10).

    WAREHOUSE_URL=... uv run python benchmarks/disclosure_control.py [--repeat 3]

Reads the publish candidates in `publish_staging` of a built warehouse (after `partnership run --keep-running`,
`partnership warehouse url` gives the embedded one's URL), then times, in this process and without writing
anything, what the transform DAG's protect_publish task computes: the protection of all publish tables together
and the attacker's audit of the result. It prints, per publish table, the count cells, how many are from 1 to 9
(primary) and how many are suppressed in all, with the share: the information lost to protection. This is a
benchmark, not a test: the timings depend on the machine, the shares on the data's scale.
"""

from __future__ import annotations

import argparse
import statistics
import time

from partnership import publish, warehouse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (the median is printed)")
    args = parser.parse_args()

    decls = publish.declarations()
    with warehouse.connect() as conn:
        tables, pairs = publish.read_tables(conn, publish.STAGING_SCHEMA, decls, published=False)

    # The protect_publish task's own work, without the database writes.
    timings: dict[str, list[float]] = {"protect and audit": [], "of which audit": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = publish.protect_tables(tables, pairs)
        timings["protect and audit"].append(time.perf_counter() - started)
        timings["of which audit"].append(result.audit.seconds)
        if not result.audit.ok:
            print("the audit failed:", *result.audit.findings[:10], sep="\n  ")
            return 1

    print(f"{'publish table':42} {'count cells':>11} {'1 to 9':>7} {'suppressed':>10} {'share':>6}")
    summary = result.summary()
    for p in summary:
        print(f"{p.table:42} {p.count_cells:11} {p.primary:7} {p.suppressed:10} {p.suppressed_pct:5.1f}%")
    cells, suppressed = sum(p.count_cells for p in summary), sum(p.suppressed for p in summary)
    print(f"{'all publish tables':42} {cells:11} {'':7} {suppressed:10} {100.0 * suppressed / cells:5.1f}%")
    print(f"\n{len(result.system.relations)} relations, {result.protection.rounds} rounds of secondary suppression")
    for step, values in timings.items():
        print(f"{step:18} median {statistics.median(values):6.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
