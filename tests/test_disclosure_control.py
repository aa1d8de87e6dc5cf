"""Disclosure control (dbt/macros/disclosure_control.sql) on hand-worked tables: counts from 1 to 9 are
suppressed, and enough other cells that no suppressed count can be worked out from a published total."""

import json

import pytest

from partnership import runner, warehouse

pytestmark = pytest.mark.integration

# Area x offence with totals. Primary: A/X (5) and C/Y (3). Each is alone in its column, so the smallest other
# cell of that column goes too (C/X 12, A/Y 20); then every row and column holds two suppressed cells or none.
CELLS = {
    ("A", "X"): 5, ("A", "Y"): 20, ("A", "All"): 25,
    ("B", "X"): 30, ("B", "Y"): 40, ("B", "All"): 70,
    ("C", "X"): 12, ("C", "Y"): 3, ("C", "All"): 15,
    ("All", "X"): 47, ("All", "Y"): 63, ("All", "All"): 110,
}  # fmt: skip
DISCLOSURE = {"dims": ["area", "offence"], "total_dims": ["area", "offence"], "counts": ["crimes"],
              "rates": {"crimes_per_1000": ["crimes"]}}  # fmt: skip


def suppress(url, rows, disclosure=DISCLOSURE):
    with warehouse.connect(url) as conn:
        conn.execute("create schema if not exists sdc_test")
        conn.execute("drop table if exists sdc_test.cells")
        conn.execute("create table sdc_test.cells (area text, offence text, crimes bigint, crimes_per_1000 numeric)")
        with conn.cursor().copy("copy sdc_test.cells from stdin") as copy:
            for (area, offence), n in rows.items():
                copy.write_row((area, offence, n, n / 2))
    args = {"schema": "sdc_test", "table": "cells", "disclosure": disclosure}
    runner.dbt("run-operation", "suppress_table", "--args", json.dumps(args), url=url)
    with warehouse.connect(url) as conn:
        return {
            (area, offence): (crimes, flagged, rate)
            for area, offence, crimes, flagged, rate in conn.execute(
                "select area, offence, crimes, crimes_suppressed, crimes_per_1000 from sdc_test.cells"
            )
        }


def test_small_counts_and_their_complements_are_suppressed(warehouse_url):
    published = suppress(warehouse_url, CELLS)
    suppressed = {cell for cell, (crimes, flagged, _) in published.items() if flagged}
    assert suppressed == {("A", "X"), ("C", "Y"), ("C", "X"), ("A", "Y")}
    for cell, (crimes, flagged, rate) in published.items():
        if flagged:
            assert crimes is None and rate is None  # the rate built on a suppressed count goes too
        else:
            assert crimes == CELLS[cell] and rate == pytest.approx(CELLS[cell] / 2)


def test_no_suppressed_cell_can_be_recovered_from_a_total(warehouse_url):
    published = suppress(warehouse_url, CELLS)
    areas, offences = {a for a, _ in CELLS}, {o for _, o in CELLS}
    lines = [[(a, o) for a in areas] for o in offences] + [[(a, o) for o in offences] for a in areas]
    for line in lines:
        hidden = [cell for cell in line if published[cell][0] is None]
        assert len(hidden) != 1, f"{hidden[0]} = total minus the published cells of {line}"


def test_a_small_total_is_protected_too(warehouse_url):
    # A row whose total is 4: the total and, to keep it from being the sum of the published cells, one cell.
    rows = {("A", "X"): 0, ("A", "Y"): 4, ("A", "All"): 4, ("B", "X"): 50, ("B", "Y"): 60, ("B", "All"): 110,
            ("All", "X"): 50, ("All", "Y"): 64, ("All", "All"): 114}  # fmt: skip
    published = suppress(warehouse_url, rows)
    assert published[("A", "All")][0] is None and published[("A", "Y")][0] is None
    assert published[("B", "X")][0] == 50 or published[("B", "Y")][0] is None  # column Y stays safe
    for line in ([("A", "Y"), ("B", "Y"), ("All", "Y")], [("A", "X"), ("A", "Y"), ("A", "All")]):
        assert sum(published[cell][0] is None for cell in line) != 1


def test_a_count_of_zero_is_published(warehouse_url):
    published = suppress(warehouse_url, {("A", "X"): 0, ("A", "All"): 0, ("All", "X"): 0, ("All", "All"): 0})
    assert all(crimes == 0 and not flagged for crimes, flagged, _ in published.values())
