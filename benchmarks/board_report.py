"""The Board's report on a built warehouse: how long it takes, and whether its control limits are the scorecard's.

    uv run python benchmarks/board_report.py [--url URL] [--quarter 2024/25-Q3] [--repeat 3]

Times `build.build` (read publish as pw_board_reporter, draw, render, print the PDF) for one quarter, and compares
the centre line and process limits the report draws from published values (board_report/spc.py) with the
warehouse's own (marts.fct_partnership_scorecard, which the report may not read: this script reads it with the
URL's login, so give it one that can). Limits need 6 clean quarters: use a run of two years or more, e.g.
`partnership run --months 27 --first-month 2022-04`. A benchmark, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from partnership import warehouse
from partnership.board_report import build, publish_data


def compare_limits(url: str) -> tuple[int, int, list[str]]:
    """(quarters whose limits match within 0.02, quarters drawn differently, why others are not drawn)."""
    with publish_data.board_connection(url) as conn:
        controls = build.control_charts(publish_data.read_tables(conn)["pub_partnership_scorecard"])
    with warehouse.connect(url) as conn:
        internal = conn.execute(
            "select kpi_code, financial_year_quarter, centre_line, lower_process_limit, upper_process_limit "
            "from marts.fct_partnership_scorecard where geography = 'Manchester' and centre_line is not null"
        ).fetchall()
    matched, differ, not_drawn = 0, 0, set()
    for kpi, quarter, centre, lower, upper in internal:
        if kpi not in controls:
            continue  # internal-only KPIs are not published
        drawn = controls[kpi].limits.get(quarter)
        if drawn is None:
            not_drawn.add(f"{kpi}: {controls[kpi].reason}")
            continue
        gap = max(abs(float(centre) - drawn.centre), abs(float(lower) - drawn.lower), abs(float(upper) - drawn.upper))
        matched, differ = (matched + 1, differ) if gap <= 0.02 else (matched, differ + 1)
    return matched, differ, sorted(not_drawn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="the warehouse (default: WAREHOUSE_URL)")
    parser.add_argument("--quarter", help="default: the latest published")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = build.build(args.url, args.quarter, Path(out))
            times.append(time.perf_counter() - started)
    print(
        f"report for {report.quarter.label}: median {statistics.median(times):.1f} s, max {max(times):.1f} s "
        f"over {args.repeat} builds (HTML and PDF)"
    )
    matched, differ, not_drawn = compare_limits(args.url)
    print(f"control limits: {matched} quarters as the scorecard's (within 0.02), {differ} different")
    for line in not_drawn:
        print(f"  not drawn: {line}")


if __name__ == "__main__":
    main()
