"""The gate's steps run in order and stop at the first critical failure; its records survive the trip between
Airflow tasks (XCom) unchanged, and refuse a field they do not know."""

import csv
import json
from pathlib import Path

import pytest

from partnership import gate, pseudonymise
from partnership.demo.generator import generate
from partnership.linkage.files import link_within_file
from partnership.validation import plain_lines


def link_within_the_file(file: gate.GateFile) -> list:
    """The linkage step without the warehouse (linking itself is tested in test_linkage): the copy the suite reads
    holds person ids in place of people's details, as the gate's does."""
    if file.ds.linked_persons:
        target = link_within_file(file.ds, file.path, file.path.with_name("linked-" + file.path.name))
        file.pseudonymised = pseudonymise.Outcome(target, 0, list(file.file_rows), [])
    return []


# The steps that need no database: the volume check and the key check read audit, linkage the linkage index.
WITHOUT_AUDIT = (gate.screen_identifiers, gate.check_the_contract, link_within_the_file, gate.run_the_suite)


@pytest.fixture(scope="module")
def crime_rows(tmp_path_factory):
    path = generate(tmp_path_factory.mktemp("landing"), months=1, scale=0.2)["police__recorded_crime"][0]
    with open(path, newline="") as f:
        return list(csv.reader(f))


def _file(tmp_path: Path, rows: list[list[str]], ds) -> gate.GateFile:
    path = tmp_path / "recorded_crime_2024-04.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return gate.GateFile(ds, path, plain=plain_lines(path))


def _copy(rows):
    return [list(r) for r in rows]


def test_a_good_file_passes_every_step_and_is_counted(crime_rows, crimes, tmp_path):
    file = _file(tmp_path, crime_rows, crimes)
    checks = gate.run_steps(file, WITHOUT_AUDIT)
    assert not gate.failures(checks) and checks, "the suite's checks are all there, all passing"
    assert file.rows == len(crime_rows) - 1 and file.checked.name == "linked-" + file.path.name


def test_an_identifier_stops_the_gate_before_the_contract_and_gx_read_the_file(crime_rows, crimes, tmp_path):
    rows = _copy(crime_rows)
    rows[0][-1] = "unexpected column"  # the contract would refuse this header
    rows[5][-1] = "NHS 943 476 5919"  # a valid NHS number in free text
    file = _file(tmp_path, rows, crimes)
    checks = gate.run_steps(file, WITHOUT_AUDIT)
    assert {c.expectation.split(":")[0] for c in checks} == {"identifier screen"}
    assert any(c.rows == [6] for c in gate.failures(checks))
    assert file.rows is None, "GX never read it"


def test_a_wrong_header_stops_the_gate_before_gx(crime_rows, crimes, tmp_path):
    rows = _copy(crime_rows)
    a, b = rows[0].index("crime_type"), rows[0].index("outcome")  # two text columns: nothing for the screen
    rows[0][a], rows[0][b] = rows[0][b], rows[0][a]
    file = _file(tmp_path, rows, crimes)
    checks = gate.run_steps(file, WITHOUT_AUDIT)
    assert [c.expectation for c in gate.failures(checks)] == [
        f"columns are out of order; expected {', '.join(crimes.file_headers)}"
    ]
    assert file.rows is None


def test_suite_failures_name_the_row_of_the_file_the_agency_sent(crime_rows, crimes, tmp_path):
    """Rows left out before the suite (by pseudonymisation, or an earlier load) still count in the row numbers."""
    rows = _copy(crime_rows)
    date = crimes.file_headers.index(crimes.column("offence_date").file_header)
    rows[3][date] = "2024-13-45"  # row 4 of what the suite reads
    file = _file(tmp_path, rows, crimes)
    file.file_rows = [2, 3]  # the agency's rows 2 and 3 are not in it: the suite's row 4 is the agency's row 6
    link_within_the_file(file)
    failed = gate.failures(gate.run_the_suite(file))
    assert failed and all(c.rows == [6] for c in failed), [(c.expectation, c.rows) for c in failed]


def test_every_step_names_the_row_of_the_file_the_agency_sent_when_rows_were_left_out(crime_rows, crimes, tmp_path):
    """reprocess checks a kept copy, from which the first load left out rows: the screen and the contract name
    the agency's rows too, as the suite does."""
    rows = _copy(crime_rows)
    rows[3][-1] = "NHS 943 476 5919"  # row 4 of the copy
    file = _file(tmp_path, rows, crimes)
    file.file_rows = [2, 3]
    (screened,) = gate.failures(gate.screen_identifiers(file))
    assert screened.rows == [6] and "at rows 6" in screened.message

    rows = _copy(crime_rows)
    rows[3].append("one too many")
    file = _file(tmp_path, rows, crimes)
    file.file_rows = [2, 3]
    (contract,) = gate.check_the_contract(file)
    assert contract.rows == [6]


class _CountedFile:
    """A file that counts what is taken from it: lines by iteration (the csv module), blocks by read()."""

    def __init__(self, f) -> None:
        self._f, self.lines, self.blocks = f, 0, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()

    def __iter__(self):
        return self

    def __next__(self) -> str:
        self.lines += 1
        return next(self._f)

    def read(self, size: int = -1) -> str:
        self.blocks += 1
        return self._f.read(size)


@pytest.mark.parametrize("damage", [None, "one too many"], ids=["good", "a long row"])
def test_the_contract_reads_only_the_header_after_the_screen_read_the_file(crime_rows, crimes, tmp_path, damage):
    """A plain file's records are read once for both: the contract takes their widths from the screen's pass and
    says what it says when it reads them itself, with the row of the file the agency sent."""
    import builtins

    from partnership.validation import contract

    rows = _copy(crime_rows)
    if damage:
        rows[3].append(damage)  # row 4 of the copy, the agency's row 6
    path = _file(tmp_path, rows, crimes).path
    alone = gate.check_the_contract(gate.GateFile(crimes, path, plain=True, file_rows=[2, 3]))
    assert [c.rows for c in alone] == ([[6]] if damage else [])

    file = gate.GateFile(crimes, path, plain=True, file_rows=[2, 3])
    assert not gate.failures(gate.screen_identifiers(file))
    opened = []
    with pytest.MonkeyPatch.context() as m:
        counted = lambda *a, **k: opened.append(_CountedFile(builtins.open(*a, **k))) or opened[-1]  # noqa: E731
        m.setattr(contract, "open", counted, raising=False)
        after_the_screen = gate.check_the_contract(file)
    assert after_the_screen == alone
    assert [(f.lines, f.blocks) for f in opened] == [(1, 0)], "the header only"


def test_the_records_go_through_xcom_unchanged(tmp_path):
    accepted = gate.Accepted(
        landed=tmp_path / "a.csv",
        path=tmp_path / "work" / "a.csv",
        sha256="1" * 64,
        rows=10,
        load_sha256="2" * 64,
        checks_path=tmp_path / "work" / "a.csv.checks.json",
        flagged=1,
        key_fingerprint="nhs_number:abcd",
    )
    loaded = gate.Loaded(landed=tmp_path / "a.csv", path=tmp_path / "a.csv", sha256="1" * 64, batch_id=7, rows=10)
    skipped = gate.SkippedDuplicate(landed=tmp_path / "b.csv", duplicate_of=7)
    for record in (accepted, loaded, skipped):
        xcom = json.loads(json.dumps(record.to_xcom()))  # what Airflow keeps: plain JSON
        assert type(record).from_xcom(xcom) == record
    assert (loaded.status, skipped.status, accepted.status) == ("loaded", "skipped_duplicate", "accepted")
    assert (loaded.file, skipped.file) == ("a.csv", "b.csv")


def test_a_record_without_its_own_checksum_takes_the_landed_files():
    accepted = gate.Accepted(landed=Path("a.csv"), path=Path("a.csv"), sha256="1" * 64, rows=0)
    assert accepted.load_sha256 == "1" * 64 and accepted.checks_path is None


def test_a_record_refuses_fields_it_does_not_know_and_needs_those_it_has():
    xcom = gate.Loaded(landed=Path("a.csv"), path=Path("a.csv"), sha256="1" * 64, batch_id=7, rows=10).to_xcom()
    with pytest.raises(ValueError, match="unexpected fields \\['source_path'\\]"):
        gate.Loaded.from_xcom({**xcom, "source_path": "a.csv"})
    with pytest.raises(TypeError, match="batch_id"):
        gate.Loaded.from_xcom({k: v for k, v in xcom.items() if k != "batch_id"})


def test_an_outcome_written_before_the_records_is_still_read(tmp_path):
    """A run in flight across an upgrade hands the next task the dict the loader used to return."""
    landed, copy = tmp_path / "landing" / "a.csv", tmp_path / "work" / "a.csv"
    old = {"status": "loaded", "file": "a.csv", "batch_id": 7, "rows": 10, "path": str(copy), "sha256": "1" * 64}
    assert gate.Loaded.from_xcom({**old, "source_path": str(landed)}) == gate.Loaded(
        landed=landed, path=copy, sha256="1" * 64, batch_id=7, rows=10
    )
    assert gate.Loaded.from_xcom(old).landed == copy, "no source_path: the landed file was the one loaded"


def test_a_record_naming_files_outside_its_datasets_folders_is_refused(crimes, data_dir, tmp_path):
    """Records travel as XComs, which Airflow's API can write: load and mark_done touch only the dataset's files."""
    from partnership import loader, settings

    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("kept\n")
    landed = settings.landing_dir() / crimes.landing_subdir / "recorded_crime_2024-04.csv"
    records = [
        gate.Accepted(landed=elsewhere, path=elsewhere, sha256="1" * 64, rows=1),
        gate.Accepted(landed=landed, path=elsewhere, sha256="1" * 64, rows=1),
    ]
    for record in records:
        with pytest.raises(ValueError, match="outside the dataset's landing and work folders"):
            loader.load(crimes, record)
    with pytest.raises(ValueError, match="outside the dataset's landing and work folders"):
        loader.mark_done(crimes, gate.Loaded(landed=elsewhere, path=landed, sha256="1" * 64, batch_id=1, rows=1))
    assert elsewhere.read_text() == "kept\n"
