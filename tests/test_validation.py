"""The gate: the contract and the GX suite catch bad files, naming file, row and column but never the value."""

import csv
import io
import json
import logging

import pytest

from partnership import validation
from partnership.demo.generator import generate
from partnership.linkage.files import link_within_file
from partnership.registry import get_dataset, load_registry


@pytest.fixture(scope="module")
def good_crime_file(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("landing"), months=1, scale=0.2)["police__recorded_crime"][0]


def _rewrite(src, dst, edit):
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(dst, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return dst


@pytest.mark.parametrize("ds", load_registry(), ids=lambda d: d.name)
def test_committed_suite_is_the_one_the_registry_implies(ds):
    assert json.loads(validation.suite_path(ds).read_text()) == validation.build_suite(ds)


def test_generated_files_pass(crimes, good_crime_file):
    report = validation.validate_file(crimes, good_crime_file)
    assert report.success, report.reason()
    assert report.row_count > 100


def test_missing_column_is_named(crimes, good_crime_file, tmp_path):
    def drop_victim_age(rows):
        i = rows[0].index("victim_age")
        for r in rows:
            del r[i]

    bad = _rewrite(good_crime_file, tmp_path / "recorded_crime_2024-04.csv", drop_victim_age)
    report = validation.validate_file(crimes, bad)
    assert not report.success
    assert "recorded_crime_2024-04.csv: column 'victim_age': required column is missing" in report.reason()


def test_extra_column_is_named(crimes, good_crime_file, tmp_path):
    def add_column(rows):
        rows[0].append("home_postcode")
        for r in rows[1:]:
            r.append("")

    report = validation.validate_file(crimes, _rewrite(good_crime_file, tmp_path / "x.csv", add_column))
    # By position: a header the contract does not know is never quoted (it may itself be an identifier).
    assert f"x.csv: header cell {len(crimes.file_headers) + 1} is not in the contract" in report.reason()
    assert "home_postcode" not in report.reason()


def test_bad_values_are_reported_by_row_and_column_without_the_values(crimes, good_crime_file, tmp_path):
    header = None

    def corrupt(rows):
        nonlocal header
        header = rows[0]
        rows[3][header.index("crime_type")] = "Jaywalking"  # file row 4
        rows[5][header.index("victim_age")] = "forty"  # file row 6: wrong type
        rows[7][header.index("recorded_date")] = "2001-01-01"  # file row 8: before the contract's minimum
        rows[9][header.index("crime_reference")] = rows[2][header.index("crime_reference")]  # rows 3 and 10

    report = validation.validate_file(crimes, _rewrite(good_crime_file, tmp_path / "x.csv", corrupt))
    failed = {(c.column, c.expectation): c.rows for c in report.failures}
    assert failed[("crime_type", "expect_column_values_to_be_in_set")] == [4]
    assert failed[("victim_age", "expect_column_values_to_match_regex")] == [6]
    assert failed[("recorded_date", "expect_column_values_to_be_between")] == [8]
    assert failed[("crime_reference", "expect_column_values_to_be_unique")] == [3, 10]
    assert "Jaywalking" not in report.reason() and "forty" not in report.reason()


def test_empty_file_and_header_only_file_are_rejected(crimes, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert validation.validate_file(crimes, empty).reason() == "empty.csv: file: file is empty failed for 0 row(s)"
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(crimes.file_headers) + "\n")
    assert "header but no rows" in validation.validate_file(crimes, header_only).reason()


def test_wrong_encoding_is_rejected(crimes, good_crime_file, tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(good_crime_file.read_bytes().replace(b"Other crime", "Other crîme".encode("latin-1")))
    report = validation.validate_file(crimes, latin1)
    assert not report.success
    assert "UTF-8" in report.reason() or "utf-8" in report.reason()


@pytest.mark.parametrize(
    "damage, fields",
    [(lambda line: line + ",surplus", +1), (lambda line: line.rsplit(",", 2)[0], -2), (lambda line: "", None)],
    ids=["too-many-fields", "too-few-fields", "blank-line"],
)
def test_a_ragged_row_is_reported_by_row_number(crimes, good_crime_file, tmp_path, damage, fields):
    lines = good_crime_file.read_text().splitlines()
    lines[4] = damage(lines[4])  # file row 5
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join(lines) + "\n")
    report = validation.validate_file(crimes, ragged)
    header = len(crimes.file_headers)
    fields = 0 if fields is None else header + fields
    assert (
        report.reason()
        == f"ragged.csv: file: row has {fields} fields, the header has {header} failed for 1 row(s) at rows 5"
    )


def test_impossible_dates_are_rejected(crimes, good_crime_file, tmp_path):
    def impossible(rows):
        rows[2][rows[0].index("offence_date")] = "2024-02-30"  # file row 3

    report = validation.validate_file(crimes, _rewrite(good_crime_file, tmp_path / "x.csv", impossible))
    failed = {(c.column, c.expectation): c.rows for c in report.failures}
    assert failed == {("offence_date", "expect_column_values_to_match_strftime_format"): [3]}


@pytest.mark.parametrize("written", ["2024-04- 2", " 2024-04-02", "2024-4-02", "2024-04-02 "])
def test_a_date_strftime_forgives_but_postgresql_refuses_is_rejected(crimes, good_crime_file, tmp_path, written):
    """Python's strptime takes "2024-04- 2"; PostgreSQL's cast (staging, retention's record dates) does not, and
    such a row would never expire. The gate asks for the digits the format names."""

    def spaced(rows):
        rows[2][rows[0].index("offence_date")] = written  # file row 3

    report = validation.validate_file(crimes, _rewrite(good_crime_file, tmp_path / "x.csv", spaced))
    assert ("offence_date", [3]) in [(c.column, c.rows) for c in report.failures]


def test_a_byte_order_mark_is_accepted(crimes, good_crime_file, tmp_path):
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + good_crime_file.read_bytes())
    assert validation.validate_file(crimes, with_bom).success


def _gx_levels() -> dict[str, int]:
    return {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.split(".")[0] == "great_expectations"
    }


def test_validating_a_file_logs_no_great_expectations_info(crimes, good_crime_file, data_dir, caplog):
    """A validate task's log shows our result lines, not GX's INFO chatter; GX's loggers are left as they were."""
    before = _gx_levels()
    caplog.set_level(logging.DEBUG)
    assert validation.validate_file(crimes, good_crime_file).success
    gx = [r for r in caplog.records if r.name.split(".")[0] == "great_expectations"]
    chatter = [r for r in gx if r.levelno < logging.WARNING]
    assert chatter == []
    assert {name: level for name, level in _gx_levels().items() if name in before} == before


FRESH_PROCESS = """
import collections, logging, sys
from partnership import validation
from partnership.registry import get_dataset

counts = collections.Counter()
class Count(logging.Handler):
    def emit(self, record):
        counts[record.levelname] += record.name.split(".")[0] == "great_expectations"
logging.basicConfig(level=logging.INFO, handlers=[Count()])
assert "great_expectations" not in sys.modules
assert validation.validate_file(get_dataset("police__recorded_crime"), sys.argv[1]).success
print(counts["INFO"] + counts["DEBUG"])
"""


def test_a_fresh_process_imports_great_expectations_quietly(good_crime_file, data_dir):
    """As an Airflow task process does: GX's import alone used to log 214 INFO lines."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(good_crime_file)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "0", done.stderr


def test_historic_offences_load_with_a_warning_that_counts_them(crimes, good_crime_file, tmp_path):
    """Crimes are counted by the date recorded (the file's month); an offence committed years earlier is
    historic: the file loads, and a warning counts the rows. Days or weeks before the month load silently."""

    def historic(rows):
        header = rows[0]
        for r in rows[1:]:  # none historic to begin with: every offence a few days before it was recorded
            r[header.index("offence_date")] = r[header.index("recorded_date")]
        rows[2][header.index("offence_date")] = "2009-03-14"  # file row 3: recorded 15 years later
        rows[4][header.index("offence_date")] = "2023-03-31"  # file row 5: more than a year before April 2024
        rows[6][header.index("offence_date")] = "2024-03-20"  # file row 7: last month, ordinary

    report = validation.validate_file(
        crimes, _rewrite(good_crime_file, tmp_path / "recorded_crime_2024-04.csv", historic)
    )
    assert report.success, report.reason()
    (warning,) = [c for c in report.checks if not c.success]
    assert (warning.column, warning.severity, warning.unexpected_count, warning.rows) == (
        "offence_date",
        "warning",
        2,
        [3, 5],
    )
    assert "historic" in warning.expectation


def test_an_offence_dated_after_it_was_recorded_quarantines_the_file(crimes, good_crime_file, tmp_path):
    def future(rows):
        rows[2][rows[0].index("offence_date")] = "2024-05-02"  # file row 3: after April, when it was recorded

    report = validation.validate_file(
        crimes, _rewrite(good_crime_file, tmp_path / "recorded_crime_2024-04.csv", future)
    )
    assert [(c.column, c.rows) for c in report.failures] == [("offence_date", [3])]


def test_a_bad_first_value_shown_beside_longer_columns_is_counted_once_per_row_that_holds_it(
    crimes, good_crime_file, tmp_path
):
    """At the end of a file a column's few values are shown to GX beside the others', padded with its first
    value: when that value fails, the padding must not add to the rows counted or named."""

    def first_row_unknown_type(rows):
        rows[1][rows[0].index("crime_type")] = "Not a crime type"
        rows[7][rows[0].index("crime_type")] = "Not a crime type"

    report = validation.validate_file(
        crimes, _rewrite(good_crime_file, tmp_path / "recorded_crime_2024-04.csv", first_row_unknown_type)
    )
    [failure] = report.failures
    assert (failure.column, failure.expectation, failure.unexpected_count, failure.rows) == (
        "crime_type",
        "expect_column_values_to_be_in_set",
        2,
        [2, 8],
    )


def test_dates_parsed_per_distinct_value_are_the_row_by_row_numbers(crimes):
    """The range checks' YYYYMMDD numbers, parsed once per distinct value: the same values, missing and
    unparseable values null, the same dtype and the chunk's own row index (GX reports rows by it)."""
    import pandas as pd

    dates = ["2024-04-03", None, "2024-04-03", "2024-13-45x", "2024-04-30T10:00", "not a date", None, "2024-04-01"]
    for values in (dates, [d for d in dates if d], ["2024-04-03"] * 3):
        chunk = pd.DataFrame({c: values for c in crimes.column_names}, index=range(100, 100 + len(values)))
        chunk = chunk.astype("str").where(chunk.notna())
        column = crimes.column(crimes.record_date_column)
        expected = pd.to_numeric(chunk[column.name].str.slice(0, 10).str.replace("-", "", regex=False), "coerce")
        validation.suites.add_parsed_columns(crimes, chunk)
        pd.testing.assert_series_equal(
            chunk[column.name + validation.suites.PERIOD_SUFFIX], expected, check_names=False
        )


@pytest.mark.parametrize(
    "distinct_values, shown_together",
    [(40, 2_000), (100_000, 2_000), (100_000, 8)],
    ids=["shown every few chunks", "shown once, together", "shown once, long columns alone"],
)
def test_gx_shown_distinct_values_reports_what_gx_shown_every_row_reports(
    tmp_path, monkeypatch, distinct_values, shown_together
):
    """Per-value expectations see each distinct value once, for many chunks at a time; the checks (counts, first
    rows, success) and the Data Docs counts must be exactly those of GX shown every row, on damaged files of
    every dataset, in many small chunks, whether GX sees the values once or again and again as they recur, and
    whether a column's values are shown alone or beside other columns' (padded with its first value). The
    reference is GX as it comes: every row, and each expectation's configuration built at every read."""
    import random

    from partnership.registry import get_dataset

    monkeypatch.setattr(validation.run, "CHUNK_ROWS", 300)  # files of one to several chunks
    monkeypatch.setattr(validation.run, "DISTINCT_VALUES", distinct_values)
    monkeypatch.setattr(validation.run, "SHOWN_TOGETHER", shown_together)
    docs = []
    monkeypatch.setattr(
        validation.run,
        "build_data_docs",
        lambda context, ds, spec, result: docs.append(
            [(c.type, c.kwargs, c.meta, r.success, r.result) for r in result.results for c in [r.expectation_config]]
        ),
    )
    rng = random.Random(1)
    for name, paths in sorted(generate(tmp_path / "landing", months=1, scale=0.1).items()):
        ds = get_dataset(name)
        for path in paths:

            def damage(rows):
                for _ in range(40):  # blanks, junk, out-of-range and repeated values, and a repeated record
                    r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
                    rows[r][c] = rng.choice(
                        ["", "junk", "2099-01-01", "-5", "1e9", rows[rng.randrange(1, len(rows))][c]]
                    )
                rows.append(rows[1])

            _rewrite(path, path, damage)
            if ds.linked_persons:  # the suite reads the gate's copy: person ids in place of people's details
                path = link_within_file(ds, path, path.with_name("linked-" + path.name))
            with validation.quiet_gx_logs():
                distinct = validation.run._run_suite(ds, path)
                every_row_checks, every_row_docs = _gx_shown_every_row(ds, path, monkeypatch, docs)
            assert distinct.checks == every_row_checks, name
            assert any(not c.success for c in distinct.checks)
            assert docs[-1] == every_row_docs, name


# GX shown every row of a file (its checks and Data Docs counts), by dataset, file name and content, and by the
# settings it reads (uniqueness is checked a chunk at a time): it does not depend on how the distinct values are
# shown, so the cases above share it (it was most of their time).
_EVERY_ROW: dict[tuple, tuple[list, list]] = {}


def _gx_shown_every_row(ds, path, monkeypatch, docs) -> tuple[list, list]:
    import contextlib

    from partnership.landing import sha256_of

    settings = (validation.run.CHUNK_ROWS, validation.run.SHOWN_ROWS)
    key = (ds.name, path.name, sha256_of(path), settings)
    if key not in _EVERY_ROW:
        entries = len(docs)
        with monkeypatch.context() as m:
            m.setattr(validation.run, "PER_VALUE", frozenset())  # every expectation shown every row
            m.setattr(validation.run, "configurations_built_once", contextlib.nullcontext)
            checks = validation.run._run_suite(ds, path).checks
        assert len(docs) == entries + 1, "the every-row run wrote its Data Docs"
        _EVERY_ROW[key] = (checks, docs.pop())
    return _EVERY_ROW[key]


@pytest.mark.parametrize(
    "damage",
    [b"", b"\n", b"a,b\n", b"1,2,3,4,5,6,7,8,9,10,11,12,13\n", b"\xff\xfe,x\n", b"x" * 200_000 + b"\n"],
    ids=["none", "blank line", "short row", "long row", "not UTF-8", "field over the csv limit"],
)
def test_the_contract_reads_a_plain_file_as_the_csv_module_does(crimes, good_crime_file, tmp_path, damage, monkeypatch):
    """A plain file's lines are split, not parsed: the same verdict, row and message as the csv module's."""
    from partnership import screening

    monkeypatch.setattr(validation.contract, "PLAIN_BLOCK", 1000)
    monkeypatch.setattr(screening.files, "PLAIN_BLOCK", 1000)  # blocks that end inside lines (read there)
    assert len(list(screening.plain_line_blocks(io.StringIO("a\n" * 1000)))) == 2  # the patch took effect
    lines = good_crime_file.read_bytes().splitlines(keepends=True)
    path = tmp_path / good_crime_file.name
    path.write_bytes(b"".join(lines[:40]) + damage + b"".join(lines[40:]))
    assert validation.plain_lines(path)
    split, parsed = (
        validation.check_contract(crimes, path, plain=True),
        validation.check_contract(crimes, path, plain=False),
    )
    assert split == parsed
    assert (split is None) == (damage == b"")
    # Given the widths the screen's pass found (the gate's way), the same verdict again. The screen knows them
    # only when it read the whole file as plain lines: not past a byte that is not UTF-8 or an overlong field.
    shape = screening.RecordShape()
    screening.screen_file(path, crimes, encoding=validation.ENCODING, plain=True, shape=shape)
    assert shape.known == (damage not in (b"\xff\xfe,x\n", b"x" * 200_000 + b"\n"))
    assert validation.check_contract(crimes, path, plain=True, shape=shape) == parsed


def test_each_file_in_a_process_is_judged_against_its_own_month_and_suite(crimes, data_dir, tmp_path):
    """The process keeps one GX context (run._gx_context): each file's suites replace the last file's, so a file
    is judged by its own month's period expectations, whatever was validated before it."""
    april, may = generate(tmp_path / "landing", months=2, scale=0.1)["police__recorded_crime"]
    may_as_april = tmp_path / "elsewhere" / april.name
    may_as_april.parent.mkdir()
    may_as_april.write_bytes(may.read_bytes())  # May's records in a file named for April

    assert validation.validate_file(crimes, april).success
    assert validation.validate_file(crimes, may).success
    late = validation.validate_file(crimes, may_as_april)
    # recorded after April, and so (for April's file) offences dated after they were recorded too
    assert {c.column for c in late.failures} == {crimes.record_date_column, crimes.event_date_column}
    assert validation.validate_file(crimes, may).success
    assert validation.validate_file(
        get_dataset("police__stop_search"), *generate(tmp_path / "other", months=1, scale=0.1)["police__stop_search"]
    ).success


def test_a_failure_setting_up_gx_for_one_file_does_not_fail_the_next_files(crimes, data_dir, tmp_path, monkeypatch):
    """The process's GX context outlives a file: a step of its set-up that failed for one file is done again for
    the next, not left half done (here, the batch definition after its asset was added)."""
    from great_expectations.datasource.fluent.pandas_datasource import DataFrameAsset

    april, may = generate(tmp_path / "landing", months=2, scale=0.1)["police__recorded_crime"]
    original = DataFrameAsset.add_batch_definition_whole_dataframe
    failures = []

    def fail_once(asset, name):
        if not failures:
            failures.append(name)
            raise OSError("the disk was full for a moment")
        return original(asset, name)

    monkeypatch.setattr(DataFrameAsset, "add_batch_definition_whole_dataframe", fail_once)
    with pytest.raises(OSError):
        validation.validate_file(crimes, april)
    assert validation.validate_file(crimes, may).success
    assert validation.validate_file(crimes, april).success


def test_gx_builds_an_expectations_configuration_once_inside_the_block_and_as_usual_outside():
    """The cache in front of GX's ``Expectation.configuration`` (half of a small file's GX time) lives only
    while a suite is validated: outside it GX builds a new configuration at every read, as it comes."""
    import great_expectations as gx

    validation.run._build_configurations_once_when_asked()

    def in_set():
        return gx.expectations.ExpectColumnValuesToBeInSet(column="ward", value_set=["E05011000"])

    expectation = in_set()
    assert expectation.configuration is not expectation.configuration
    with validation.run.configurations_built_once():
        built = expectation.configuration
        assert expectation.configuration is built
        assert built == in_set().configuration
        other = gx.expectations.ExpectColumnValuesToNotBeNull(column="ward")
        assert other.configuration is other.configuration and other.configuration.kwargs == {"column": "ward"}
    assert expectation.configuration is not built
