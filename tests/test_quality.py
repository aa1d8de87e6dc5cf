"""Data-quality expectations beyond the contract: completeness thresholds (warning), record dates inside the
file's month (critical), volume against the dataset's own history (warning); each stored per batch and
expectation in audit with what was observed and what was asked."""

import csv

import pytest

from partnership import loader, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration


def _edit(path, edit):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return rows


def test_low_completeness_loads_flagged_with_observed_and_threshold(warehouse_url, data_dir):
    ds = get_dataset("youth_justice__cases")
    path = generate(data_dir / "landing", months=1, scale=1.0)["youth_justice__cases"][0]

    def blank_half(rows):
        i = rows[0].index("home_lsoa_code")
        for r in rows[1::2]:
            r[i] = ""

    rows = _edit(path, blank_half)
    outcome = loader.ingest_file(ds, path)
    assert outcome.status == "loaded"
    with warehouse.connect(warehouse_url) as conn:
        success, severity, observed, threshold = conn.execute(
            "select success, severity, observed, threshold from audit.validation_result"
            " where column_name = 'home_lsoa_code' and expectation = 'expect_column_values_to_not_be_null'"
        ).fetchone()
        flags = conn.execute("select flags from audit.load_batch").fetchone()[0]
    present = sum(1 for r in rows[1:] if r[rows[0].index("home_lsoa_code")])
    assert (success, severity, threshold) == (False, "warning", "at least 80% of rows")
    assert observed == f"{present / (len(rows) - 1):.1%} of {len(rows) - 1} rows as expected"
    assert "home_lsoa_code" in flags


def test_a_record_dated_outside_the_files_month_quarantines_the_file(warehouse_url, data_dir, crimes):
    path = generate(data_dir / "landing", months=1, scale=0.2)["police__recorded_crime"][0]  # 2024-04
    _edit(path, lambda rows: rows[3].__setitem__(rows[0].index("recorded_date"), "2024-05-02"))  # file row 4
    with pytest.raises(loader.QuarantinedFile, match=r"column 'recorded_date': .*\(file period\) failed .* rows 4"):
        loader.ingest_file(crimes, path)
    with warehouse.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.police__recorded_crime").fetchone()[0] == 0
        threshold = conn.execute(
            "select threshold from audit.validation_result where expectation like '%%(file period)'"
        ).fetchone()[0]
    assert threshold == "between 20240401 and 20240430"


def test_a_month_far_below_the_usual_volume_is_flagged(warehouse_url, data_dir, crimes):
    files = generate(data_dir / "landing", months=4, scale=0.2)["police__recorded_crime"]
    usual = sum(1 for _ in open(files[0])) - 1
    for path in files[:3]:
        assert loader.ingest_file(crimes, path).status == "loaded"
    _edit(files[3], lambda rows: rows.__delitem__(slice(1 + usual // 5, None)))  # a fifth of the usual rows
    assert loader.ingest_file(crimes, files[3]).status == "loaded"
    with warehouse.connect(warehouse_url) as conn:
        results = conn.execute(
            "select b.file_name, v.success, v.observed from audit.validation_result v join audit.load_batch b"
            " using (batch_id) where v.expectation = 'volume against the dataset''s history' order by b.batch_id"
        ).fetchall()
        flags = conn.execute("select flags from audit.load_batch where file_name = %s", (files[3].name,)).fetchone()[0]
    assert results == [(files[3].name, False, f"{usual // 5} rows")]
    assert "volume" in flags and "median" in flags
