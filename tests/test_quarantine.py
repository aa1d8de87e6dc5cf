"""The quarantine procedure, through the `partnership quarantine` command: list, show, release a corrected file
(loaded normally, linked in audit to the batch it replaces), discard."""

import json
from pathlib import Path

import pytest

from partnership import cli, loader, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration


def _quarantine_bad_file(path):
    good = path.read_text()
    path.write_text(good.replace(",Referral order,", ",Sent to bed early,", 1))
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(get_dataset("youth_justice__cases"), path)
    return good


def _batch(url, query, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_release_a_corrected_file_and_discard_another(warehouse_url, data_dir, capsys, tmp_path):
    bad, other = generate(data_dir / "landing", months=2, scale=0.5)["youth_justice__cases"]
    good_text = _quarantine_bad_file(bad)
    _quarantine_bad_file(other)
    (first,), (second,) = _batch(warehouse_url, "select batch_id from audit.load_batch order by batch_id")

    assert cli.main(["quarantine", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"batch {first:>6}" in listed and bad.name in listed and "column 'outcome'" in listed

    assert cli.main(["quarantine", "show", str(first)]) == 0
    shown = capsys.readouterr().out
    assert "expect_column_values_to_be_in_set" in shown and "Sent to bed early" not in shown

    corrected = tmp_path / "corrected.csv"
    corrected.write_text(good_text)
    assert cli.main(["quarantine", "release", str(first), "--file", str(corrected)]) == 0
    assert cli.main(["quarantine", "discard", str(second)]) == 0
    capsys.readouterr()
    assert not (data_dir / "quarantine" / "youth_justice" / "cases" / other.name).exists()

    loaded = loader.ingest_file(get_dataset("youth_justice__cases"), bad)  # the next run, as it would see it
    assert loaded.status == "loaded"
    rows = _batch(
        warehouse_url,
        "select batch_id, status, file_sha256, replaces_batch, resolution from audit.load_batch order by batch_id",
    )
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (first, "quarantined", None),
        (second, "quarantined", None),
        (loaded.batch_id, "loaded", first),
    ]
    assert rows[2][2] != rows[0][2], "a corrected file has a new checksum"
    assert rows[0][4].startswith("released with a corrected file") and rows[1][4].startswith("discarded")
    capsys.readouterr()  # what the load logged (on stdout when no earlier test set the log level)
    assert cli.main(["quarantine", "list"]) == 0
    assert capsys.readouterr().out == ""


def _reason_file(data_dir, name):
    return data_dir / "quarantine" / "youth_justice" / "cases" / f"{name}.reason.json"


def test_release_refuses_a_file_name_that_is_not_a_plain_landing_name(warehouse_url, data_dir):
    """The reason file is on disk, so its `file` field is not trusted: no path, no `..`, the landing pattern."""
    from partnership import quarantine

    (bad,) = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"]
    _quarantine_bad_file(bad)
    ((batch,),) = _batch(warehouse_url, "select batch_id from audit.load_batch")
    reason = _reason_file(data_dir, bad.name)
    doc = json.loads(reason.read_text())
    for name in ("../../etc/x.csv", "/tmp/cases_x.csv", "..", "sub/cases_2024-04.csv", "recorded_crime_2024-04.csv"):
        reason.write_text(json.dumps({**doc, "file": name}))
        with pytest.raises(ValueError, match="not a plain file name"):
            quarantine.release(batch)
    assert not (data_dir / "etc").exists() and not (data_dir.parent / "etc").exists()
    assert (data_dir / "quarantine" / "youth_justice" / "cases" / bad.name).exists()
    assert _batch(warehouse_url, "select resolution from audit.load_batch") == [(None,)]


def test_release_refuses_to_overwrite_a_landed_file(warehouse_url, data_dir):
    from partnership import quarantine

    (bad,) = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"]
    _quarantine_bad_file(bad)
    ((batch,),) = _batch(warehouse_url, "select batch_id from audit.load_batch")
    bad.write_text("the agency's new upload\n")  # landed under the same name meanwhile
    with pytest.raises(FileExistsError):
        quarantine.release(batch)
    assert bad.read_text() == "the agency's new upload\n"
    assert (data_dir / "quarantine" / "youth_justice" / "cases" / bad.name).exists()
    assert _batch(warehouse_url, "select resolution from audit.load_batch") == [(None,)]


def test_each_identical_quarantined_copy_keeps_its_own_reason_file(warehouse_url, data_dir):
    from partnership import quarantine

    (path,) = generate(data_dir / "landing", months=1, scale=0.2)["youth_justice__cases"]
    good = path.read_text()
    for _ in range(3):  # the agency sends the same faulty file three times
        path.write_text(good)
        _quarantine_bad_file(path)
    batches = [b for (b,) in _batch(warehouse_url, "select batch_id from audit.load_batch order by batch_id")]
    listed = quarantine.list_quarantined()
    assert [d["batch_id"] for d in listed] == batches and len(batches) == 3
    assert len({d["quarantined_file"] for d in listed}) == 3
    assert all(Path(d["quarantined_file"]).exists() for d in listed)
