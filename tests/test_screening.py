"""Identifier screening: direct identifiers are found by column name and by content, with check digits
verified; the generated (pseudonymised) extracts raise nothing."""

import csv
import random

import pytest
from synthetic_ids import invalid_nhs_number, nhs_number, pnc_id, upn, wrong_upn

from partnership import screening
from partnership.generator import generate
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
    assert [f.column for f in screening.screen_header(["case_id", column])] == [column]


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


# -- the gate, against a real PostgreSQL ------------------------------------------------------------------


def _quarantined_whole(warehouse_url, path, data_dir, rule_text, column):
    import json

    from partnership import loader, warehouse

    with pytest.raises(loader.QuarantinedFile, match=f"column '{column}': direct identifier"):
        loader.ingest_file(get_dataset("youth_justice__cases"), path)
    reason_file = data_dir / "quarantine" / "youth_justice" / "cases" / (path.name + ".reason.json")
    reason = json.loads(reason_file.read_text())
    assert any(rule_text in f and column in f for f in reason["failures"])
    with warehouse.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.youth_justice__cases").fetchone()[0] == 0
        status, text = conn.execute("select status, reason from audit.load_batch").fetchone()
        checks = conn.execute(
            "select expectation, column_name from audit.validation_result where not success"
        ).fetchall()
    assert status == "quarantined" and rule_text in text
    assert any(c == column and e.startswith("identifier screen") for e, c in checks)
    return text + reason_file.read_text()


@pytest.mark.integration
def test_a_file_with_an_nhs_number_column_is_rejected_whole(warehouse_url, data_dir):
    path = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"][0]
    rng = random.Random(11)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[0].append("nhs_number")
    for r in rows[1:]:
        r.append(nhs_number(rng))
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    text = _quarantined_whole(warehouse_url, path, data_dir, "NHS number column", "nhs_number")
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
    text = _quarantined_whole(warehouse_url, path, data_dir, "NHS number (10 digits", "outcome")
    assert "at rows 5" in text
    assert hidden not in text and f"{hidden[:3]} {hidden[3:6]} {hidden[6:]}" not in text
