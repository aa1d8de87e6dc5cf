"""Every kind of faulty extract the generator can write is caught by the gate, with the right reason."""

import pytest

from partnership import loader, validation
from partnership.demo import defects
from partnership.demo.generator import generate
from partnership.registry import get_dataset

# What the gate must say about each kind (a fragment of the reason).
EXPECTED_REASON = {
    "missing_column": "required column is missing",
    "extra_column": "is not in the contract",
    "wrong_type": "expect_column_values_to_match_strftime_format",
    "date_out_of_range": "expect_column_values_to_be_between",
    "future_date": "file period",
    "duplicate_records": "expect_column_values_to_be_unique",
    "unknown_code": "expect_column_values_to_be_in_set",
    "direct_identifier": "NHS number column",
    "wrong_encoding": "not UTF-8",
    "truncated_file": "fields, the header has",
    "empty_file": "file is empty",
    "wrong_delimiter": "required column is missing",
}


def test_every_defect_kind_has_an_expected_reason():
    assert set(EXPECTED_REASON) == set(defects.KINDS)


@pytest.fixture
def good_crime_file(tmp_path):
    return generate(tmp_path / "landing", months=1, scale=0.2)["police__recorded_crime"][0]


@pytest.mark.parametrize("kind", sorted(EXPECTED_REASON))
def test_the_gate_names_the_defect(kind, good_crime_file):
    ds = get_dataset("police__recorded_crime")
    bad = defects.inject(ds, good_crime_file, kind, seed=1)
    report = validation.validate_file(ds, bad)
    if kind == "direct_identifier":  # screening, before the contract, catches it in the loader
        from partnership import screening

        findings = screening.screen_file(bad, ds, encoding=validation.ENCODING)
        assert findings and EXPECTED_REASON[kind] in findings[0].describe(bad.name)
    else:
        assert not report.success
        assert EXPECTED_REASON[kind] in report.reason(), report.reason()


@pytest.mark.integration
@pytest.mark.parametrize("kind", sorted(EXPECTED_REASON))
def test_a_faulty_batch_is_quarantined_with_nothing_in_raw(kind, warehouse_url, data_dir):
    ds = get_dataset("police__recorded_crime")
    path = generate(data_dir / "landing", months=1, scale=0.2)["police__recorded_crime"][0]
    defects.inject(ds, path, kind, seed=1)
    with pytest.raises(loader.QuarantinedFile, match=EXPECTED_REASON[kind].split("'")[0]):
        loader.ingest_file(ds, path)
    from partnership import warehouse

    with warehouse.connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.police__recorded_crime").fetchone()[0] == 0
        assert conn.execute("select status from audit.load_batch").fetchall() == [("quarantined",)]
    assert (data_dir / "quarantine" / "police" / "recorded_crime" / path.name).exists()
