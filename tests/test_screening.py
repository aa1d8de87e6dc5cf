"""Identifier screening: direct identifiers are found by column name and by content, with check digits
verified; the generated (pseudonymised) extracts raise nothing."""

import csv
import hashlib
import random
import re
from pathlib import Path

import pytest
from synthetic_ids import (
    append_column,
    crafted_variants,
    invalid_nhs_number,
    nhs_number,
    person_name,
    pnc_id,
    upn,
    wrong_upn,
)

from partnership import screening
from partnership.demo.generator import generate
from partnership.registry import get_dataset


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("landing"), months=3, scale=0.5)


def test_generated_extracts_have_no_findings(generated):
    """The 64-hex person keys, record ids, LSOA codes, dates and ages must not look like identifiers."""
    for name, files in generated.items():
        for path in files:
            assert screening.screen_file(path, get_dataset(name)) == [], path.name


def test_check_digit_algorithms():
    assert screening.nhs_number_valid("9434765919")  # the NHS's published example number
    assert not screening.nhs_number_valid("9434765918")
    assert not screening.nhs_number_valid("943476591")
    rng = random.Random(1)
    for _ in range(200):
        assert screening.upn_valid(upn(rng))
        assert not screening.upn_valid(wrong_upn(rng))
        year, rest = pnc_id(rng).split("/")
        assert screening.pnc_valid(year, rest[:-1], rest[-1])


@pytest.mark.parametrize(
    "column",
    [
        "nhs_number",
        "NHS No",
        "upn",
        "pnc_id",
        "surname",
        "Forename",
        "victim_name",
        "full_name",
        "dob",
        "Date of Birth",
        "home_postcode",
        "email",
        "contact_email",
        "phone",
        "mobile_number",
        "address",
    ],
)
def test_identifier_column_names_are_found(column):
    findings = screening.screen_header(["case_id", column])
    assert [f.cell for f in findings] == [2]
    # A header the contract does not know is never quoted: it could hold anything.
    assert findings[0].text.startswith("header cell 2 is named as a direct identifier")
    assert repr(column) not in findings[0].describe("x.csv")


@pytest.mark.parametrize(
    "column",
    [
        "case_id",
        "age",
        "age_band",
        "lsoa_code",
        "postcode_district",
        "postcode_sector",
        "site",
        "school_id",
        "person_key",
        "reason",
        "offence_date",
        "sex",
        "ethnicity",
        "ward_name",
    ],
)
def test_allowed_column_names_pass(column):
    assert screening.screen_header([column]) == []


def _file(tmp_path, header, rows):
    path = tmp_path / "extract_2024-04.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])
    return path


@pytest.mark.parametrize(
    "make, rule",
    [
        (lambda r: f"seen with NHS {nhs_number(r)} at MRI", "NHS number"),
        (lambda r: (lambda n: f"{n[:3]} {n[3:6]} {n[6:]}")(nhs_number(r)), "NHS number"),
        (lambda r: f"pupil {upn(r)}", "UPN"),
        (lambda r: f"known as {pnc_id(r)}", "PNC ID"),
        (lambda r: "contact jo.bloggs@example.org", "email address"),
        (lambda r: "rang 07700 900123", "UK phone number"),
        (lambda r: "call 0161-496-0000", "UK phone number"),
        (lambda r: "+44 161 496 0000", "UK phone number"),
        (lambda r: "lives at M14 5RU", "full UK postcode"),
        (lambda r: "m145ru", "full UK postcode"),
        (lambda r: "2009-03-14", "dates in a column"),
        (lambda r: "14/03/2009", "dates in a column"),
    ],
)
def test_identifiers_hidden_in_free_text_are_found_by_rule_and_row(tmp_path, make, rule):
    rng = random.Random(7)
    value = make(rng)
    rows = [[f"YJ{i:010d}", "a" * 64, "Other"] for i in range(6)]
    rows[3][2] = value  # file row 5
    findings = screening.screen_file(_file(tmp_path, ["case_id", "child_person_key", "notes"], rows))
    assert [(f.column, f.rows) for f in findings] == [("notes", [5])]
    assert rule in findings[0].rule
    assert value not in findings[0].describe("x.csv")


@pytest.mark.parametrize(
    "value",
    [
        "M14",
        "M14 5",
        "E01005065",
        "10-17",
        "42",
        "Knife or blade",
        "SCH012",
        "CR202404000123",
        "2024-04-01T13:05:00",
        "1234567890",  # ten digits failing modulus 11
        "0123456789ab" * 5 + "cdef",
        # Place descriptions as police.uk writes them: street names are often people's names.
        "On or near Victoria Road",
        "On or near Paterson Wilson Road",
        "On or near Lady Margaret Road",
        "On or near Mary Rose Close",
        "On or near John Kennedy Way",
        "On or near Victoria Park",
        "On or near Hope Fountain",
        "On or near Berry Meade",
        "On or near Lady Bay",  # "Lady" is a title; "Bay" makes the run a place
        "On or near Lady Cove",
        "On or near Lord Sands",
        "On or near Sir Cliffs",
        "Manchester Victoria Station",
        "Operation Sceptre",
        "Arun 009D",
        "-0.537719",
        "50.812414",
        "2024-04-01 13:05",
        "Section 60 Criminal Justice and Public Order Act 1994",
        "Misuse of Drugs Act 1971 (section 23)",
        "extract 2024-04",
        "12.5",
        "1,234,567",
    ],
)
def test_allowed_values_pass(tmp_path, value):
    if value == "1234567890":
        assert not screening.nhs_number_valid(value)
    findings = screening.screen_file(_file(tmp_path, ["case_id", "notes"], [["YJ0000000001", value]]))
    assert findings == []


def test_invalid_check_digits_are_not_identifiers(tmp_path):
    rng = random.Random(3)
    rows = [[invalid_nhs_number(rng), wrong_upn(rng)] for _ in range(50)]
    assert screening.screen_file(_file(tmp_path, ["a", "b"], rows)) == []


# -- the crafted variants: every one caught, none echoed --------------------------------------------------

CRAFTED = crafted_variants()


def test_the_crafted_list_covers_every_rule_with_at_least_60_variants():
    assert len(CRAFTED) >= 60
    assert len({label for label, _, _ in CRAFTED}) == len(CRAFTED)


@pytest.mark.parametrize("label, value, rule", CRAFTED, ids=[label for label, _, _ in CRAFTED])
def test_each_crafted_variant_is_caught_by_its_rule(tmp_path, label, value, rule):
    rows = [[f"YJ{i:010d}", "Other"] for i in range(4)]
    rows[1][1] = value  # file row 3
    findings = screening.screen_file(_file(tmp_path, ["case_id", "notes"], rows))
    # One value may trip two rules (a mobile number can pass the NHS check too): the right one must be there.
    assert {(f.column, tuple(f.rows)) for f in findings} == {("notes", (3,))}, label
    assert any(rule in f.rule for f in findings), [f.rule for f in findings]
    assert all(value not in f.describe("x.csv") for f in findings)


def test_names_are_looked_for_only_in_free_text_columns(tmp_path):
    """The registry says which columns are free text; elsewhere a name-like value is the column's business."""
    forename, surname = person_name(random.Random(5))
    ds = get_dataset("police_uk__street_crime")
    header = ds.file_headers
    row = {h: "" for h in header} | {"Month": "2022-11", "Reported by": "Surrey Police"}
    row |= {"Falls within": f"{forename} {surname}", "Crime type": "Drugs"}
    path = _file(tmp_path, header, [list(row.values())])
    assert screening.screen_file(path, ds) == []
    row["Context"] = f"{forename} {surname} was seen"
    (finding,) = screening.screen_file(_file(tmp_path, header, [list(row.values())]), ds)
    assert (finding.column, finding.rows, finding.severity) == ("Context", [2], "warning")
    assert "person name" in finding.rule and surname not in finding.describe(path.name)


def test_a_dataset_can_raise_the_name_screen_to_critical(tmp_path):
    import dataclasses

    ds = dataclasses.replace(get_dataset("police_uk__street_crime"), name_screen="critical")
    row = ["", "2022-11", "Surrey Police", "Surrey Police", "", "", "", "", "", "Drugs", "", "Mr Smith"]
    (finding,) = screening.screen_file(_file(tmp_path, ds.file_headers, [row]), ds)
    assert finding.severity == "critical"


# -- header cells and file names ---------------------------------------------------------------------------


@pytest.mark.parametrize("label, value, rule", CRAFTED[::4], ids=[label for label, _, _ in CRAFTED[::4]])
def test_an_identifier_in_a_header_cell_is_found_and_not_echoed(tmp_path, label, value, rule):
    findings = screening.screen_file(_file(tmp_path, ["case_id", "outcome", f"notes {value}"], [["a", "b", "c"]]))
    assert {(f.cell, f.column) for f in findings} == {(3, None)}, label
    assert all(f.text.startswith("header cell 3 ") for f in findings)  # "nhs_..." is also named as one
    assert any(f.text.startswith("header cell 3 holds an identifier (") and rule in f.rule for f in findings)
    assert all(value not in f.describe("x.csv") for f in findings)


@pytest.mark.parametrize("label, value, rule", CRAFTED[1::4], ids=[label for label, _, _ in CRAFTED[1::4]])
def test_an_identifier_in_the_file_name_is_found_and_not_echoed(label, value, rule):
    if rule == "dates in a column":
        pytest.skip("a date in a file name is the extract's date, not a date of birth")
    value = value.replace("/", "-")  # a slash cannot be in a file's name
    findings = screening.screen_file_name(f"cases_2024-04_{value}.csv")
    assert findings and all(f.text == f"file name holds an identifier ({f.rule})" for f in findings), label
    assert any(rule in f.rule for f in findings) and all(f.severity == "critical" for f in findings)


@pytest.mark.parametrize("name", ["cases_2024-04.csv", "2022-11-surrey-street.csv", "asb_2024-04-30.csv"])
def test_ordinary_file_names_pass(name):
    assert screening.screen_file_name(name) == []


def test_values_in_unknown_columns_are_reported_by_header_cell(tmp_path):
    """A header the contract does not know may itself be personal data: findings under it name its position."""
    n = nhs_number(random.Random(2))
    header = get_dataset("police_uk__street_crime").file_headers + ["Jo Bloggs notes"]
    row = ["", "2022-11", "Surrey Police", "Surrey Police", "", "", "", "", "", "Drugs", "", "", n]
    (finding,) = screening.screen_file(_file(tmp_path, header, [row]), get_dataset("police_uk__street_crime"))
    assert finding.column is None and finding.text.startswith("header cell 13 (not in the contract): ")
    assert "Jo Bloggs" not in finding.describe("x.csv")


def test_the_contract_check_does_not_quote_an_unknown_header(tmp_path):
    from partnership import validation

    ds = get_dataset("police_uk__street_crime")
    n = nhs_number(random.Random(4))
    row = ["", "2022-11", "Surrey Police", "Surrey Police", "", "", "", "", "", "Drugs", "", "", "x"]
    failed = validation.check_contract(ds, _file(tmp_path, ds.file_headers + [f"Patient {n}"], [row]))
    assert failed.column is None
    assert failed.describe("x.csv") == "x.csv: header cell 13 is not in the contract"


# -- no false alarms ---------------------------------------------------------------------------------------

POLICE_UK_FILES = sorted((Path(__file__).parent / "data" / "police_uk").glob("*-street.csv"))


@pytest.mark.parametrize("path", POLICE_UK_FILES, ids=[p.name for p in POLICE_UK_FILES])
def test_no_false_alarms_on_real_police_uk_files(path):
    assert screening.screen_file(path, get_dataset("police_uk__street_crime")) == []
    assert screening.screen_file_name(path.name) == []


# -- the gate, against a real PostgreSQL ------------------------------------------------------------------


def _quarantined_whole(warehouse_url, path, data_dir, rule_text, where, column):
    """Quarantined with `rule_text` reported at `where` (e.g. "column 'outcome'"); audit names `column`."""
    import json

    from partnership import loader, warehouse

    with pytest.raises(loader.QuarantinedFile, match=re.escape(f"{where}")):
        loader.ingest_file(get_dataset("youth_justice__cases"), path)
    reason_file = data_dir / "quarantine" / "youth_justice" / "cases" / (path.name + ".reason.json")
    reason = json.loads(reason_file.read_text())
    assert any(rule_text in f and where in f for f in reason["failures"])
    with warehouse.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.youth_justice__cases").fetchone()[0] == 0
        status, text = conn.execute("select status, reason from audit.load_batch").fetchone()
        checks = conn.execute(
            "select expectation, column_name from audit.validation_result where not success"
        ).fetchall()
    assert status == "quarantined" and rule_text in text
    assert any(c == column and e.startswith("identifier screen") for e, c in checks)
    return text + reason_file.read_text()


def _everything_recorded(warehouse_url, data_dir, raised: str) -> str:
    """All the text the gate left about a file: the exception, audit rows, reason files and their names."""
    from partnership import warehouse

    with warehouse.connect(warehouse_url) as conn:
        batches = conn.execute("select file_name, reason, flags from audit.load_batch").fetchall()
        checks = conn.execute(
            "select expectation, column_name, detail, observed, threshold from audit.validation_result"
        ).fetchall()
    files = sorted(p for p in data_dir.rglob("*") if p.is_file())
    reasons = [p.read_text() for p in files if p.name.endswith(".reason.json")]
    return "\n".join([raised, repr(batches), repr(checks), *reasons, *(str(p) for p in files)])


def _crime_file(data_dir):
    return generate(data_dir / "landing", months=1, scale=0.2)["police__recorded_crime"][0]


@pytest.mark.integration
@pytest.mark.parametrize("separator", [" ", "\u00a0", "-"])
def test_an_identifier_in_a_header_cell_is_quarantined_and_never_echoed(warehouse_url, data_dir, separator):
    from partnership import loader

    n = nhs_number(random.Random(21))
    shown = separator.join([n[:3], n[3:6], n[6:]])
    path = _crime_file(data_dir)
    rows = append_column(path, f"NHS {shown}")
    with pytest.raises(loader.QuarantinedFile) as raised:
        loader.validate(get_dataset("police__recorded_crime"), path)
    text = _everything_recorded(warehouse_url, data_dir, str(raised.value))
    assert f"header cell {len(rows[0])} holds an identifier (NHS number" in text
    assert n not in text and shown not in text and n[6:] not in text


@pytest.mark.integration
def test_an_identifier_in_the_file_name_is_quarantined_and_never_echoed(warehouse_url, data_dir):
    from partnership import loader

    n = nhs_number(random.Random(22))
    path = _crime_file(data_dir)
    named = path.rename(path.with_name(path.name.replace(".csv", f"_{n[:3]} {n[3:6]} {n[6:]}.csv")))
    with pytest.raises(loader.QuarantinedFile) as raised:
        loader.validate(get_dataset("police__recorded_crime"), named)
    text = _everything_recorded(warehouse_url, data_dir, str(raised.value))
    assert "file name holds an identifier (NHS number" in text
    assert n[6:] not in text and not named.exists()
    assert list((data_dir / "quarantine").rglob("*.csv")), "the file itself is kept in quarantine, renamed"


@pytest.mark.integration
def test_an_unknown_header_is_never_echoed(warehouse_url, data_dir):
    from partnership import loader

    forename, surname = person_name(random.Random(23))
    path = _crime_file(data_dir)
    rows = append_column(path, f"notes about {forename} {surname}")
    with pytest.raises(loader.QuarantinedFile) as raised:
        loader.validate(get_dataset("police__recorded_crime"), path)
    text = _everything_recorded(warehouse_url, data_dir, str(raised.value))
    assert f"header cell {len(rows[0])}" in text and surname not in text


@pytest.mark.integration
def test_a_name_in_free_text_loads_flagged_and_never_echoed(warehouse_url, data_dir):
    """Severity warning (the registry's default): the file loads, and audit flags the column and rows."""
    import shutil

    from partnership import loader, warehouse

    forename, surname = person_name(random.Random(24))
    ds = get_dataset("police_uk__street_crime")
    landed = data_dir / "landing" / "police_uk" / "street_crime"
    landed.mkdir(parents=True)
    path = shutil.copy(POLICE_UK_FILES[0], landed / POLICE_UK_FILES[0].name)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[3][rows[0].index("Context")] = f"Victim {forename} {surname} gave a statement"  # file row 4
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    loaded = loader.ingest_file(ds, path)
    assert loaded.status == "loaded"
    with warehouse.connect(warehouse_url) as conn:
        (flags,) = conn.execute("select flags from audit.load_batch").fetchone()
    assert "column 'Context': direct identifier (person name" in flags and "at rows 4" in flags
    assert surname not in _everything_recorded(warehouse_url, data_dir, "")


@pytest.mark.integration
def test_a_file_with_an_nhs_number_column_is_rejected_whole(warehouse_url, data_dir):
    path = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"][0]
    rng = random.Random(11)
    rows = append_column(path, "nhs_number", lambda: nhs_number(rng))
    where = f"header cell {len(rows[0])} is named as a direct identifier"
    text = _quarantined_whole(warehouse_url, path, data_dir, "NHS number column", where, None)
    assert all(r[-1] not in text for r in rows[1:])


@pytest.mark.integration
def test_nhs_numbers_hidden_in_a_free_text_column_are_rejected_whole(warehouse_url, data_dir):
    """The outcome column passes through the screen before GX: the reason is the identifier, not the value set."""
    path = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"][0]
    rng = random.Random(12)
    hidden = nhs_number(rng)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    outcome = rows[0].index("outcome")
    rows[4][outcome] = f"Referral order (NHS {hidden[:3]} {hidden[3:6]} {hidden[6:]})"  # file row 5
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    text = _quarantined_whole(warehouse_url, path, data_dir, "NHS number (10 digits", "column 'outcome'", "outcome")
    assert "at rows 5" in text
    assert hidden not in text and f"{hidden[:3]} {hidden[3:6]} {hidden[6:]}" not in text


# -- issue 11, second review: normalisation, glued header values, crashes, backtracking, landed names ------

SUPERSCRIPT = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"  # str.isdigit() is true, int() fails


def test_check_digit_functions_take_ascii_digits_only():
    """'²'.isdigit() is true but int('²') raises: a superscript or non-Latin digit is simply not an identifier."""
    from partnership import pseudonymise

    rng = random.Random(31)
    n, u = nhs_number(rng), upn(rng)
    year, rest = pnc_id(rng).split("/")
    arabic = "".join(chr(0x660 + int(c)) for c in n)
    assert not screening.nhs_number_valid(n[:9] + SUPERSCRIPT[int(n[9])])
    assert not screening.nhs_number_valid(arabic)
    assert not screening.upn_valid(u[:12] + "\u00b2")
    assert not screening.upn_valid(u[:5] + "\u00b2" + u[6:])
    assert not screening.pnc_valid(year, rest[:-2] + "\u00b2", rest[-1])
    assert pseudonymise.normalise("nhs_number", n[:9] + SUPERSCRIPT[int(n[9])]) is None
    assert pseudonymise.normalise("nhs_number", arabic) is None
    assert pseudonymise.normalise("upn", u[:12] + "\u00b2") is None
    assert pseudonymise.normalise("pnc_id", f"{year}/{rest[:-2]}\u00b2{rest[-1]}") is None


def test_a_superscript_digit_does_not_crash_the_screen(tmp_path):
    n = nhs_number(random.Random(32))
    value = n[:9] + SUPERSCRIPT[int(n[9])]  # NFKC makes it the number itself: caught
    findings = screening.screen_file(_file(tmp_path, ["case_id", "notes"], [["YJ1", value], ["YJ2", "\u00b2" * 12]]))
    assert [(f.column, f.rows) for f in findings] == [("notes", [2])] and "NHS number" in findings[0].rule


def test_the_email_rule_is_linear(tmp_path):
    """A long run of address characters before an "@" cost the old pattern quadratic time (20k chars: 0.5 s)."""
    import time

    for cell in ("a" * 100_000 + "@", "a@" * 50_000, "a@" + "b." * 50_000, "Aa " * 30_000 + "@"):
        start = time.perf_counter()
        screening.content_rules(cell, names=True)
        assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("glued", ["Ref{nhs}", "ID{nhs}x", "Pupil{upn}", "PNC{pnc}", "Ref{pnc_compact}ok"])
def test_an_identifier_glued_to_a_label_in_a_header_cell_is_found(glued):
    """Headers never carry long digit runs: a valid NHS number, UPN or PNC ID counts even glued to letters."""
    rng = random.Random(33)
    n, u, p = nhs_number(rng), upn(rng), pnc_id(rng)
    year, rest = p.split("/")
    compact = f"{year}{int(rest[:-1]):07d}{rest[-1]}"
    cell = glued.format(nhs=n, upn=u, pnc=p, pnc_compact=compact)
    findings = screening.screen_header(["case_id", cell])
    assert [(f.cell, f.where) for f in findings] == [(2, "header cell")], cell
    assert all(cell not in f.describe("x.csv") and n not in f.describe("x.csv") for f in findings)


def test_ordinary_headers_with_numbers_pass():
    assert screening.screen_header(["count_2019", "rate_per_1000", "Q1 2024", "col12345678", "E01005065"]) == []


def test_an_email_in_a_file_name_is_found_although_dots_are_separators():
    (finding,) = screening.screen_file_name("jo.bloggs@example.com-street.csv")
    assert finding.rule == screening.EMAIL_RULE and "bloggs" not in finding.text


@pytest.mark.parametrize(
    "value",
    [
        "2024-04-01 13:05",  # a timestamp: when something happened
        "12/03/2009 13:45",
        "2009-03-12T08:30:00",
        "On or near Hope Fountain",
        "On or near Mary Rose Close",
        "ON OR NEAR VICTORIA ROAD",
        "NHS PROVIDER",
        "POSSESSION OF WEAPONS",
        "12 03 20",  # not a four-digit year
        "1 2 2024",  # day and month unpadded both: a count or a list, not a date
    ],
)
def test_new_rules_raise_no_false_alarm(tmp_path, value):
    assert screening.screen_file(_file(tmp_path, ["case_id", "notes"], [["YJ0000000001", value]])) == []


# -- the loader: names of landed files, stale markers, a superscript in a pseudonymised column ------------


def _land(ds, name: str, text: str, marker: bool = True) -> Path:
    from partnership import settings

    path = settings.landing_dir() / ds.landing_subdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if marker:
        settings.upload_marker(path).touch()
    return path


@pytest.mark.integration
def test_a_landed_file_whose_name_holds_an_identifier_is_never_returned_or_logged(warehouse_url, data_dir, caplog):
    """find_new_files' list becomes Airflow XCom (kept in the metadata database) and its log lines task logs."""
    import logging

    from partnership import loader, warehouse

    ds = get_dataset("health__navigator_referrals")
    n = nhs_number(random.Random(34))
    waiting = _land(ds, f"navigator_referrals_{n}.csv", "x\n", marker=False)  # still uploading
    done = _land(ds, f"navigator_referrals_nhs_{n[:3]} {n[3:6]} {n[6:]}_b.csv", "x\n")
    ordinary = _land(ds, "navigator_referrals_2024-05.csv", "x\n", marker=False)  # not complete, name fine
    with caplog.at_level(logging.DEBUG):
        found = loader.find_new_files(ds)
    assert found == []
    assert n[6:] not in caplog.text and "withheld" in caplog.text
    assert not waiting.exists() and not done.exists() and ordinary.exists()
    kept = [p.name for p in (data_dir / "quarantine").rglob("*") if p.is_file()]
    assert kept and all(n[6:] not in name for name in kept)
    with warehouse.connect(warehouse_url) as conn:
        names = [r[0] for r in conn.execute("select file_name from audit.load_batch")]
    assert len(names) == 2 and all(name.startswith("name-withheld-") for name in names)


@pytest.mark.integration
def test_a_stale_marker_does_not_vouch_for_a_re_upload(data_dir):
    """A .done marker older than its file was left by an earlier upload: the file being written now waits."""
    import os
    import time

    from partnership import loader, settings

    ds = get_dataset("police_uk__street_crime")
    path = _land(ds, "2022-11-surrey-street.csv", "Crime ID\n")
    assert loader.upload_complete(ds, path)
    now = time.time()
    os.utime(settings.upload_marker(path), (now - 60, now - 60))
    os.utime(path, (now, now))  # re-sent after the marker: still being written
    assert not loader.upload_complete(ds, path)
    assert str(path) not in loader.find_new_files(ds)
    settings.upload_marker(path).touch()  # the sender's new marker
    assert loader.upload_complete(ds, path)


@pytest.mark.integration
def test_a_superscript_digit_in_a_pseudonymised_column_is_rejected_not_a_crash(warehouse_url, data_dir):
    from partnership import loader

    ds = get_dataset("health__navigator_referrals")
    n = nhs_number(random.Random(35))
    header = "referral_id,nhs_number,referral_date,age,sex,engaged\n"
    rows = f"NV0000000001,{n},2024-01-02,15,M,Y\nNV0000000002,{n[:9]}{SUPERSCRIPT[int(n[9])]},2024-01-03,16,F,Y\n"
    path = _land(ds, "navigator_referrals_2024-01.csv", header + rows)
    try:
        outcome = loader.ingest_file(ds, path)
    except loader.QuarantinedFile as e:
        assert n not in str(e)
    else:
        assert outcome.status == "loaded"
    assert not path.exists(), "filed away, not left in landing"


# -- second review: coordinates, file names glued, PNC IDs beside slashes ----------------------------------


def _coordinates(rng: random.Random) -> list[str]:
    """Coordinates with ten decimals (valid to the contract: ``type: decimal``) whose digits pass modulus 11:
    the fraction alone, and the integer part and fraction together, read as NHS numbers if "." separated."""
    n, m = nhs_number(rng), nhs_number(rng)
    return [f"53.{n}", f"-2.{m}", f"-0.{n}", f"{int(m[:3])}.{m[3:]}", f"-{int(n[:2])}.{n[2:]}", f"{m[0]}.{m[1:]}0"]


def test_coordinates_with_ten_decimals_are_not_nhs_numbers(generated, tmp_path):
    """A plain decimal number is read with "." as its decimal point; dotted NHS numbers are still found."""
    rng = random.Random(41)
    ds = get_dataset("police__stop_search")
    with open(generated["police__stop_search"][0], newline="") as f:
        rows = list(csv.reader(f))
    lat, lon = rows[0].index("Latitude"), rows[0].index("Longitude")
    for r in rows[1:]:
        r[lat], r[lon] = rng.sample(_coordinates(rng), 2)
    path = tmp_path / generated["police__stop_search"][0].name  # a copy: the fixture's files are shared
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    assert screening.screen_file(path, ds) == []
    for value in _coordinates(rng):
        assert screening.content_rules(value, names=True) == [], value
    n = nhs_number(rng)
    assert "NHS number" in screening.content_rules(f"{n[:3]}.{n[3:6]}.{n[6:]}")[0]
    assert "NHS number" in screening.content_rules(f"{n}.0")[0]  # a spreadsheet's number: its integer part
    assert "NHS number" in screening.content_rules(f"lat 53.1 and {n[:3]}.{n[3:6]}.{n[6:]}")[0]


@pytest.mark.parametrize(
    "glued", ["ref{nhs}", "pt{nhs}x", "Pupil{upn}", "offender{pnc_compact}", "pnc-{pnc_hyphen}", "ref{a}.{b}.{c}"]
)
def test_an_identifier_glued_to_a_word_in_a_file_name_is_found(glued):
    """The file name gets the header cells' glued check: a valid NHS number, UPN or PNC ID anywhere in it."""
    rng = random.Random(43)
    n, u, p = nhs_number(rng), upn(rng), pnc_id(rng)
    year, rest = p.split("/")
    serial = f"{int(rest[:-1]):07d}{rest[-1]}"  # the full seven-digit serial: a short one reads as a date
    value = glued.format(
        nhs=n, upn=u, pnc_compact=year + serial, pnc_hyphen=f"{year}-{serial}", a=n[:3], b=n[3:6], c=n[6:]
    )
    findings = screening.screen_file_name(f"navigator_referrals_2024-01_{value}.csv")
    assert findings and all(f.where == "file name" and f.severity == "critical" for f in findings), value
    assert all(value not in f.describe("x.csv") and n not in f.describe("x.csv") for f in findings)


@pytest.mark.parametrize(
    "name",
    [
        "navigator_referrals_2024-01.csv",
        "navigator_referrals_2024-01-31.csv",
        "stop_search_20240131.csv",
        "2019-01-greater-manchester-stop-and-search.csv",
        "cases_2024-04_v2.csv",
        "extract_2024-04-30T12-00-00.csv",
    ],
)
def test_dates_in_file_names_are_still_allowed(name):
    assert screening.screen_file_name(name) == []


def test_dates_and_times_in_file_names_never_pass_for_a_glued_identifier():
    """The glued check runs over the whole name: its dates and times (letters beside digits: "T", "Z", "v")
    must not read as a PNC ID (YY NN and a letter) or a UPN (a letter and eleven digits)."""
    import datetime as dt

    rng = random.Random(45)
    start = dt.datetime(2019, 1, 1)
    for _ in range(400):
        t = start + dt.timedelta(seconds=rng.randrange(7 * 365 * 86400))
        for stamp in (
            t.strftime("%Y-%m-%dT%H-%M-%SZ"),
            t.strftime("%Y%m%dT%H%M%SZ"),
            t.strftime("%Y%m%d_%H%M%S"),
            t.strftime("%Y-%m-%d_%H%Mh"),
            t.strftime("%d-%m-%Yv2"),
            t.strftime("%Y-%m-%da"),
            t.strftime("v%Y%m%d%H%M%S"),
        ):
            name = f"stop_search_{stamp}.csv"
            assert screening.screen_file_name(name) == [], name


def test_pnc_ids_beside_slashes_are_still_found_and_invalid_numbers_are_not_nhs_numbers():
    rng = random.Random(47)
    p, n = pnc_id(rng), nhs_number(rng)
    assert any("PNC ID" in r for r in screening.content_rules(f"{p}/{pnc_id(rng)}"))
    assert screening.content_rules(f"{invalid_nhs_number(rng)}/{invalid_nhs_number(rng)}") == []
    assert any("NHS number" in r for r in screening.content_rules(f"{p}/{n}"))


def test_only_typed_labels_glue_to_an_nhs_number_and_other_groupings_stay_quiet(tmp_path):
    """Referral ids ("NV" and ten digits) are ordinary data even when their digits pass modulus 11; the new
    groupings (2-4-4, 5-5...) never read a longer run of numbers (a timestamp's parts) in pieces."""
    rng = random.Random(53)
    ids = []
    while len(ids) < 20:
        digits = f"{rng.randrange(10**10):010d}"
        if screening.nhs_number_valid(digits):
            ids += [f"NV{digits}", f"CR{digits}", f"YJ{digits}", f"Case{digits}"]
    for value in ids:
        assert screening.content_rules(value, names=True) == [], value
        assert screening.content_rules(f"Ref{value[-10:]}") != [], value
    quiet = [
        "2024 04 01 13:05",
        "20 24 04 01 13 05",
        "On or near A6 Road",
        "Victoria Road, Bolton",
        "On or near Kennedy Way, John Street",
        "Possession of weapons, Section 60",
        "2024 13 45",  # no month 13
        "12mar09x",
    ]
    rows = [["YJ0000000001", value] for value in quiet + ids]
    assert screening.screen_file(_file(tmp_path, ["case_id", "notes"], rows)) == []


# -- the column-wise screen finds exactly what the cell-by-cell one found -----------------------------------


def _cell_by_cell(path, ds=None):
    """The screen as it was before issue 14: every cell judged in turn, row by row (the reference)."""
    exempt = {c.file_header for c in ds.columns if c.pseudonymise} if ds else set()
    date_columns = {c.file_header for c in ds.columns if c.date_format} if ds else set()
    free_text = {c.file_header for c in ds.columns if c.free_text} if ds else None
    known = set(ds.file_headers) if ds else None
    name_severity = ds.name_screen if ds else "warning"
    hits, findings = {}, []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            first_line = f.readline()
            f.seek(0)
            reader = csv.reader(f, delimiter=next((d for d in ",;|\t" if d in first_line), ","))
            header = next(reader, None)
            if header is None:
                return []
            findings = screening.screen_header(header, exempt, ds)
            screened = [
                (
                    i,
                    n if known is None or n in known else None,
                    n not in date_columns,
                    free_text is None or n in free_text,
                )
                for i, n in enumerate(header)
                if n not in exempt
            ]
            for row_number, record in enumerate(reader, start=2):
                for i, column, dates, names in screened:
                    if i >= len(record):
                        break
                    for rule in screening.content_rules(record[i], dates=dates, names=names):
                        severity = name_severity if rule == screening.NAME_RULE else "critical"
                        screening.files._hit(hits, i, column, rule, severity, row_number)
    except (UnicodeDecodeError, csv.Error):
        pass
    return findings + list(hits.values())


def _chunk_sizes(monkeypatch) -> list[int]:
    """The number of records of each non-empty chunk the screen judges, from now on in the test."""
    sizes = []
    screen_chunk = screening.files._screen_chunk

    def recorded(chunk, *args):
        if chunk:
            sizes.append(len(chunk))
        return screen_chunk(chunk, *args)

    monkeypatch.setattr(screening.files, "_screen_chunk", recorded)
    return sizes


@pytest.mark.parametrize("plain", [True, False], ids=["lines split", "csv module"])
def test_the_column_wise_screen_finds_what_the_cell_by_cell_screen_finds(tmp_path, monkeypatch, plain):
    """Every crafted variant, several to a file, in rows spread over chunk boundaries, beside the real
    police.uk rows: the same findings (rule, column, severity, count, first rows) in the same order. A plain
    file (no quote: the variants that need none) is split at its line breaks, others read by the csv module."""
    from partnership import validation

    # Patched where the screen reads them (partnership.screening.files), not on the package.
    monkeypatch.setattr(screening.files, "CHUNK_ROWS", 7)  # many chunks, and findings that span them
    monkeypatch.setattr(screening.files, "PLAIN_BLOCK", 500)  # blocks that end inside lines
    chunks = _chunk_sizes(monkeypatch)
    rng = random.Random(3)
    ds = get_dataset("police_uk__street_crime")
    with open(POLICE_UK_FILES[0], newline="", encoding="utf-8-sig") as f:
        real = list(csv.reader(f))
    header, rows = real[0], [list(r) for r in real[1:200]]
    for _, value, _ in CRAFTED:
        if plain and any(c in value for c in ',"\r\n'):
            continue
        column = rng.choice(["Location", "Context", "LSOA name", "Crime ID", "Longitude"])
        rows[rng.randrange(len(rows))][header.index(column)] = value
    for row in rng.sample(range(len(rows)), 20):
        rows[row] = rows[row][: rng.randrange(3, 12)]  # a short record: its missing cells are not screened
    path = _file(tmp_path, header, rows)
    assert validation.plain_lines(path) is plain
    for dataset in (ds, None):
        fast, reference = screening.screen_file(path, dataset), _cell_by_cell(path, dataset)
        assert fast and [f.__dict__ for f in fast] == [f.__dict__ for f in reference]
    assert len(chunks) > 10  # 200 rows in chunks of at most 7 records or 500 characters: the patches took effect


def test_a_column_of_hex_keys_is_passed_over_only_when_every_value_is_one(tmp_path):
    """The screen passes over a chunk's Crime IDs in one look when every one is a 64-digit hex key; one value
    that is not (an identifier, a key one digit short or long, in capitals, with a line break) and the column is
    judged value by value, as before."""
    key = hashlib.sha256(b"crime").hexdigest()
    nhs = nhs_number(random.Random(5))  # a valid check digit, generated
    keys = {hashlib.sha256(str(n).encode()).hexdigest() for n in range(300)}
    assert screening.files.all_hex_keys(keys | {"", None})
    for odd in (nhs, key[:63], key + "0", key.upper(), key[:32] + "\n" + key[33:], key[:63] + "é"):
        assert not screening.files.all_hex_keys(keys | {odd}), odd
        assert screening.files.all_hex_keys({odd}) is bool(screening.rules._HEX_KEY.match(odd))
    assert not screening.files.all_hex_keys({"", None})

    ds = get_dataset("police_uk__street_crime")
    with open(POLICE_UK_FILES[0], newline="", encoding="utf-8-sig") as f:
        real = list(csv.reader(f))
    header, rows = real[0], [list(r) for r in real[1:400]]
    crime_id = header.index("Crime ID")
    for n, row in enumerate(rows):
        row[crime_id] = hashlib.sha256(str(n).encode()).hexdigest() if n % 10 else ""
    rows[250][crime_id] = nhs  # a valid NHS number among 360 keys
    path = _file(tmp_path, header, rows)
    found = screening.screen_file(path, ds)
    assert [(f.rule, f.column, f.rows) for f in found] == [(screening.CONTENT_RULES[0][0], "Crime ID", [252])]
    assert [f.__dict__ for f in found] == [f.__dict__ for f in _cell_by_cell(path, ds)]


@pytest.mark.parametrize("path", POLICE_UK_FILES, ids=[p.name for p in POLICE_UK_FILES])
def test_the_column_wise_screen_agrees_on_real_police_uk_files(path):
    ds = get_dataset("police_uk__street_crime")
    assert screening.screen_file(path, ds) == _cell_by_cell(path, ds) == []
    assert screening.screen_file(path) == _cell_by_cell(path)  # every column as free text: names may be found


def test_the_column_wise_screen_reports_what_was_read_before_an_undecodable_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(screening.files, "CHUNK_ROWS", 3)
    chunks = _chunk_sizes(monkeypatch)
    rows = [[f"YJ{i:010d}", value] for i, (_, value, _) in enumerate(CRAFTED[:20])]
    rows += [[f"YJ{i:010d}", "Other"] for i in range(2000)]  # more than a decoded block before the bad byte
    path = _file(tmp_path, ["case_id", "notes"], rows)
    path.write_bytes(path.read_bytes() + b"YJ9,\xff\xfe bad\n" + f"YJ10,{CRAFTED[30][1]}\n".encode())
    fast, reference = screening.screen_file(path), _cell_by_cell(path)
    assert fast and [f.__dict__ for f in fast] == [f.__dict__ for f in reference]
    assert len(chunks) > 100  # the 2,000 records before the bad byte in chunks of 3: the patch took effect
