"""Keyed pseudonymisation at the gate: raw identifiers are normalised, check-digit validated and replaced by
HMAC-SHA256 before anything is validated by GX or loaded; invalid ones reject their row, with the row number."""

import csv
import hashlib
import hmac
import json
import random
import secrets

import pytest
from synthetic_ids import invalid_nhs_number, nhs_number, pnc_id, upn

from partnership import loader, pseudonymise, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset


@pytest.fixture
def key(monkeypatch):
    value = secrets.token_hex(32)
    monkeypatch.setenv("PSEUDONYMISATION_KEY_NHS_NUMBER", value)
    return value


def independent_pseudonym(key: str, nhs: str) -> str:
    """Computed here from the definition, not with the module's function."""
    return hmac.new(key.encode(), f"nhs_number:{nhs}".encode(), hashlib.sha256).hexdigest()


def test_normalisation_and_check_digits():
    rng = random.Random(5)
    n = nhs_number(rng)
    assert pseudonymise.normalise("nhs_number", f" {n[:3]} {n[3:6]}-{n[6:]} ") == n
    assert pseudonymise.normalise("nhs_number", invalid_nhs_number(rng)) is None
    assert pseudonymise.normalise("nhs_number", n[:9]) is None
    u = upn(rng)
    assert pseudonymise.normalise("upn", u.lower()) == u
    year, rest = pnc_id(rng).split("/")
    assert pseudonymise.normalise("pnc_id", f"20{year}/{rest[:-1].lstrip('0') or '0'}{rest[-1]}") == (
        f"{year}/{rest[:-1].zfill(7)}{rest[-1]}"
    )


def test_a_missing_or_short_key_stops_the_gate_without_showing_it(monkeypatch):
    monkeypatch.delenv("PSEUDONYMISATION_KEY_NHS_NUMBER", raising=False)
    with pytest.raises(pseudonymise.KeyUnavailable, match="PSEUDONYMISATION_KEY_NHS_NUMBER"):
        pseudonymise.get_key("nhs_number")
    monkeypatch.setenv("PSEUDONYMISATION_KEY_NHS_NUMBER", "shortkey")
    with pytest.raises(pseudonymise.KeyUnavailable) as err:
        pseudonymise.get_key("nhs_number")
    assert "shortkey" not in str(err.value)


def test_the_same_person_gets_the_same_pseudonym_in_every_agencys_file(key, tmp_path, monkeypatch):
    """Two agencies, two spellings of one NHS number: one pseudonym; a different key gives another."""
    from dataclasses import replace

    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
    rng = random.Random(9)
    n = nhs_number(rng)
    navigator = get_dataset("health__navigator_referrals")
    # The same column contract under another agency's name, as a second agreement would declare it.
    other = replace(navigator, agency="police", dataset="navigator_like")
    outputs = []
    for ds, spelt in ((navigator, n), (other, f"{n[:3]} {n[3:6]} {n[6:]}")):
        src = tmp_path / ds.agency / "navigator_referrals_2024-04.csv"
        src.parent.mkdir()
        src.write_text(
            f"referral_id,nhs_number,referral_date,age,sex,engaged\nNV2024040001,{spelt},2024-04-02,15,M,Y\n"
        )
        out = pseudonymise.pseudonymise_file(ds, src)
        outputs.append(list(csv.reader(open(out.path)))[1][1])
    assert outputs[0] == outputs[1] == independent_pseudonym(key, n)
    monkeypatch.setenv("PSEUDONYMISATION_KEY_NHS_NUMBER", secrets.token_hex(32))
    assert pseudonymise.pseudonym(pseudonymise.get_key("nhs_number"), "nhs_number", n) != outputs[0]


def test_source_rows_map_back_past_rejected_rows():
    assert [pseudonymise.source_row(r, [3, 4, 9]) for r in (2, 3, 4, 5, 6, 7, 8)] == [2, 5, 6, 7, 8, 10, 11]


@pytest.mark.integration
def test_the_gate_loads_pseudonyms_rejects_invalid_rows_and_keeps_no_identifier(key, warehouse_url, data_dir):
    ds = get_dataset("health__navigator_referrals")
    path = generate(data_dir / "landing", months=1, scale=1.0)["health__navigator_referrals"][0]
    rng = random.Random(21)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    bad = invalid_nhs_number(rng)
    rows[3][1] = bad  # file row 4: wrong check digit
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    expected = {
        (int(i), independent_pseudonym(key, r[1].replace(" ", ""))) for i, r in enumerate(rows[1:], start=2) if i != 4
    }

    outcome = loader.ingest_file(ds, path)

    assert outcome.status == "loaded" and outcome.rows == len(rows) - 2
    with warehouse.connect(warehouse_url) as conn:
        loaded = set(conn.execute("select _source_row, nhs_number from raw.health__navigator_referrals"))
        checks = conn.execute(
            "select expectation, column_name, success, unexpected_count, detail from audit.validation_result"
            " where expectation like 'pseudonymise%%'"
        ).fetchall()
        batch = conn.execute("select status, row_count, file_name from audit.load_batch").fetchone()
    assert loaded == expected, "pseudonyms, each at its row of the landed file"
    assert checks == [("pseudonymise: valid nhs_number", "nhs_number", False, 1, "first rows: 4")]
    assert batch == ("loaded", len(rows) - 2, path.name)
    # The landed original (raw NHS numbers) is gone; processed/ holds the pseudonymised copy only.
    assert not path.exists() and not list((data_dir / "work").rglob("*.csv"))
    kept = (data_dir / "processed" / "health" / "navigator_referrals" / path.name).read_text()
    assert bad not in kept and all(r[1] not in kept for r in rows[1:])
    assert key not in kept


@pytest.mark.integration
def test_a_file_with_every_identifier_invalid_is_quarantined(key, warehouse_url, data_dir):
    ds = get_dataset("health__navigator_referrals")
    path = generate(data_dir / "landing", months=1, scale=0.2)["health__navigator_referrals"][0]
    rng = random.Random(22)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    for r in rows[1:]:
        r[1] = invalid_nhs_number(rng)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    with pytest.raises(loader.QuarantinedFile, match="rejected, nhs_number malformed"):
        loader.ingest_file(ds, path)
    reason = json.loads(
        (data_dir / "quarantine" / "health" / "navigator_referrals" / (path.name + ".reason.json")).read_text()
    )
    assert all(r[1] not in json.dumps(reason) for r in rows[1:])
    with warehouse.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.health__navigator_referrals").fetchone()[0] == 0
    assert not list((data_dir / "work").rglob("*.csv"))
