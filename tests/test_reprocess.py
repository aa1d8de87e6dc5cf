"""`partnership reprocess`: a month's loaded files re-run from processed/ through the gate, superseding their
batches in one transaction, with audit; nothing changes when the gate refuses a file or the file is gone."""

import json

import psycopg
import pytest

from partnership import cli, loader, reprocess, security, settings, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration
DENIED = psycopg.errors.InsufficientPrivilege
REASON = "offence code mapping corrected (ticket 42)"


def _rows(url, query, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _load_two_months(ds):
    files = generate(settings.landing_dir(), months=2, scale=0.1)[ds.name]
    batches = [loader.ingest_file(ds, path) for path in files]
    assert [b.status for b in batches] == ["loaded", "loaded"]
    return files, batches


def _batches(url, dataset):
    return _rows(
        url,
        "select batch_id, status, superseded_by, row_count, file_sha256 from audit.load_batch"
        " where dataset = %s order by batch_id",
        dataset,
    )


def test_a_month_is_reprocessed_superseding_its_batch_and_twice_changes_no_count(
    warehouse_url, data_dir, crimes, capsys
):
    files, (april, may) = _load_two_months(crimes)
    file_rows = sum(1 for _ in open(data_dir / "processed" / crimes.landing_subdir / files[0].name)) - 1
    total = _rows(warehouse_url, "select count(*) from raw.police__recorded_crime")[0][0]

    code = cli.main(["reprocess", "--dataset", crimes.name, "--month", "2024-04", "--reason", REASON])
    out = capsys.readouterr().out
    assert code == 0
    new = _rows(warehouse_url, "select max(batch_id) from audit.load_batch")[0][0]
    assert f"batch {april.batch_id} ({file_rows} rows) superseded by batch {new} ({file_rows} rows" in out

    batches = _batches(warehouse_url, crimes.name)
    sha = april.sha256
    assert batches == [
        (april.batch_id, "superseded", new, file_rows, sha),
        (may.batch_id, "loaded", None, may.rows, may.sha256),
        (new, "loaded", None, file_rows, sha),
    ]
    month = "select _batch_id, count(*) from raw.police__recorded_crime where left(recorded_date, 7) = %s group by 1"
    assert _rows(warehouse_url, month, "2024-04") == [(new, file_rows)]
    assert _rows(warehouse_url, "select count(*) from raw.police__recorded_crime")[0][0] == total
    # The other month is untouched; the new batch has its checks, as a load from the landing zone has.
    assert _rows(warehouse_url, month, "2024-05") == [(may.batch_id, may.rows)]
    assert _rows(warehouse_url, "select count(*) > 10 from audit.validation_result where batch_id = %s", new)[0][0]
    ((old, made, outcome, reason, requested_by, by),) = _rows(
        warehouse_url,
        "select old_batch_id, new_batch_id, outcome, reason, requested_by, reprocessed_by from audit.reprocess",
    )
    assert (old, made, outcome, reason, by) == (april.batch_id, new, "superseded", REASON, "postgres")
    assert requested_by

    # Again: the reprocessed batch is superseded in turn; the counts do not change.
    (again,) = reprocess.reprocess(crimes, "2024-04", "second look")
    assert (again.old_batch, again.old_rows, again.new_rows, again.month_rows) == (new, file_rows, file_rows, file_rows)
    assert _rows(warehouse_url, month, "2024-04") == [(again.new_batch, file_rows)]
    assert _rows(warehouse_url, "select count(*) from raw.police__recorded_crime")[0][0] == total
    loaded = "select count(*) from audit.load_batch where status = 'loaded' and file_sha256 = %s"
    assert _rows(warehouse_url, loaded, sha)[0][0] == 1
    # The kept file stays where it was, and the file sent again (the same bytes: the generator makes them again)
    # is still a duplicate of the live batch.
    kept = data_dir / "processed" / crimes.landing_subdir / files[0].name
    assert kept.exists()
    sent_again = generate(data_dir / "sent-again", months=2, scale=0.1)[crimes.name][0]
    resent = settings.landing_dir() / crimes.landing_subdir / "recorded_crime_2024-04-resent.csv"
    resent.write_bytes(sent_again.read_bytes())
    assert loader.ingest_file(crimes, resent).duplicate_of == again.new_batch


def test_a_pseudonymised_dataset_is_reprocessed_from_its_pseudonymised_copy(warehouse_url, data_dir):
    nav = get_dataset("health__navigator_referrals")
    files = generate(settings.landing_dir(), months=2, scale=0.5)[nav.name]
    # A malformed NHS number: that row is rejected at the gate (a warning), so the kept copy lacks a file row.
    lines = files[0].read_text().splitlines()
    column = lines[0].split(",").index("nhs_number")
    cells = lines[3].split(",")
    cells[column] = "123"
    lines[3] = ",".join(cells)
    files[0].write_text("\n".join(lines) + "\n")
    april, _ = (loader.ingest_file(nav, path) for path in files)
    rows = "select _source_row, nhs_number, referral_date from raw.health__navigator_referrals where _batch_id = %s"
    before = sorted(_rows(warehouse_url, rows, april.batch_id))
    assert 4 not in [r[0] for r in before] and 5 in [r[0] for r in before]  # file row 4 rejected

    month = before[0][2][:7]
    (done,) = reprocess.reprocess(nav, month, REASON)
    # The same pseudonyms (not hashed twice), from the same file rows, under the new batch.
    assert sorted(_rows(warehouse_url, rows, done.new_batch)) == before
    assert _rows(warehouse_url, rows, april.batch_id) == []
    ((status, fingerprint),) = _rows(
        warehouse_url, "select status, key_fingerprint from audit.load_batch where batch_id = %s", done.new_batch
    )
    assert status == "loaded" and fingerprint == april_fingerprint(warehouse_url, april.batch_id)

    # A batch loaded before loaded_sha256 was recorded: its kept copy is the file of its name holding its rows.
    with warehouse.connect(warehouse_url) as conn:  # as the owner would
        conn.execute("update audit.load_batch set loaded_sha256 = null where batch_id = %s", (done.new_batch,))
    (again,) = reprocess.reprocess(nav, month, REASON)
    assert again.old_batch == done.new_batch and sorted(_rows(warehouse_url, rows, again.new_batch)) == before


def april_fingerprint(url, batch_id):
    return _rows(url, "select key_fingerprint from audit.load_batch where batch_id = %s", batch_id)[0][0]


def test_a_month_no_batch_holds_is_refused_clearly(warehouse_url, data_dir, crimes, capsys):
    _load_two_months(crimes)
    with pytest.raises(
        reprocess.ReprocessError, match="no loaded batch of police__recorded_crime holds rows of 2023-01"
    ):
        reprocess.reprocess(crimes, "2023-01", REASON)
    assert cli.main(["reprocess", "--dataset", crimes.name, "--month", "2023-01", "--reason", REASON]) == 1
    assert "not reprocessed: no loaded batch" in capsys.readouterr().err
    with pytest.raises(reprocess.ReprocessError, match="YYYY-MM"):
        reprocess.reprocess(crimes, "2024-4", REASON)
    with pytest.raises(reprocess.ReprocessError, match="reason is required"):
        reprocess.reprocess(crimes, "2024-04", " ")


def test_a_batch_whose_kept_file_is_gone_is_refused_and_nothing_changes(warehouse_url, data_dir, crimes):
    files, (april, _) = _load_two_months(crimes)
    before = _batches(warehouse_url, crimes.name)
    (data_dir / "processed" / crimes.landing_subdir / files[0].name).unlink()  # as retention would
    with pytest.raises(reprocess.ReprocessError, match=f"batch {april.batch_id} .* no longer in .*processed"):
        reprocess.reprocess(crimes, "2024-04", REASON)
    assert _batches(warehouse_url, crimes.name) == before


def test_a_file_the_changed_contract_refuses_leaves_the_old_batch_loaded(
    warehouse_url, data_dir, crimes, tmp_path, monkeypatch
):
    files, (april, _) = _load_two_months(crimes)
    kept = data_dir / "processed" / crimes.landing_subdir / files[0].name
    held = _rows(warehouse_url, "select count(*) from raw.police__recorded_crime")[0][0]
    before = _batches(warehouse_url, crimes.name)
    # The definition changes: domestic abuse is now only ever flagged "N" (so every "Y" row fails).
    suite = json.loads((settings.EXPECTATIONS_DIR / f"{crimes.name}.json").read_text())
    for e in suite["expectations"]:
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "domestic_abuse_flag":
            e["kwargs"]["value_set"] = ["N"]
    (tmp_path / f"{crimes.name}.json").write_text(json.dumps(suite))
    monkeypatch.setattr(settings, "EXPECTATIONS_DIR", tmp_path)

    with pytest.raises(reprocess.GateRefused) as refused:
        reprocess.reprocess(crimes, "2024-04", REASON)
    message = str(refused.value)
    assert f"batch {april.batch_id} ({files[0].name}) fails the gate now" in message
    assert f"{files[0].name}: column 'domestic_abuse_flag': expect_column_values_to_be_in_set failed" in message
    assert " at rows " in message
    assert _batches(warehouse_url, crimes.name) == before
    assert _rows(warehouse_url, "select count(*) from raw.police__recorded_crime")[0][0] == held
    assert kept.exists() and not (data_dir / "quarantine").exists()
    ((outcome, new, detail),) = _rows(warehouse_url, "select outcome, new_batch_id, detail from audit.reprocess")
    assert outcome == "refused" and new is None and "domestic_abuse_flag" in detail
    assert not list((data_dir / "work").rglob("*.csv")), "the working copy is removed"


def test_the_loader_role_reprocesses_but_cannot_supersede_a_batch_by_hand(
    warehouse_url, data_dir, crimes, login_role, monkeypatch
):
    _, loader_url = login_role(warehouse_url, security.LOADER)
    monkeypatch.setenv("WAREHOUSE_URL", loader_url)
    _, (april, may) = _load_two_months(crimes)
    history = _batches(warehouse_url, crimes.name)

    def attempt(*statements):
        """Run the statements in one transaction as the loader: refused (at the latest, at commit)."""
        with pytest.raises(DENIED), psycopg.connect(warehouse.conninfo(loader_url)) as conn:
            made = None
            for statement in statements:
                cur = conn.execute(statement.format(old=april.batch_id, other=may.batch_id, made=made))
                made = cur.fetchone()[0] if cur.description else made

    supersede = "update audit.load_batch set status = 'superseded', superseded_by = {by} where batch_id = {{old}}"
    new_batch = (
        "insert into audit.load_batch (dataset, file_name, file_sha256, status)"
        " values ('police__recorded_crime', 'x.csv', repeat('2', 64), 'loading') returning batch_id"
    )
    # By an earlier batch, or by itself: no new batch in this transaction.
    attempt(supersede.format(by="{other}"))
    attempt(supersede.format(by="{old}"))
    # By a batch of this transaction that never loads: refused at commit.
    attempt(new_batch, supersede.format(by="{made}"))
    # Nor may anything else of it change with the status, nor a batch be born superseded.
    attempt(
        new_batch,
        "update audit.load_batch set status = 'superseded', superseded_by = {made}, row_count = 1"
        " where batch_id = {old}",
    )
    attempt(
        "insert into audit.load_batch (dataset, file_name, file_sha256, status)"
        " values ('police__recorded_crime', 'x.csv', repeat('3', 64), 'superseded') returning batch_id"
    )
    assert _batches(warehouse_url, crimes.name) == history

    # The command itself, as the loader: supersedes, and the record names the database user who ran it.
    (done,) = reprocess.reprocess(crimes, "2024-04", REASON)
    assert _rows(warehouse_url, "select status from audit.load_batch where batch_id = %s", april.batch_id) == [
        ("superseded",)
    ]
    ((by,),) = _rows(
        warehouse_url, "select reprocessed_by from audit.reprocess where new_batch_id = %s", done.new_batch
    )
    assert by == loader_url.split("//", 1)[1].split("@", 1)[0]


def test_a_later_batch_holding_a_newer_version_of_a_record_is_re_run_with_the_month(warehouse_url, data_dir, crimes):
    """Staging counts a record's version from the highest batch: re-running April alone would put April's old
    version of a record corrected in May's file ahead of the correction."""
    april_file, may_file = generate(settings.landing_dir(), months=2, scale=0.1)[crimes.name]
    corrected = april_file.read_text().splitlines()[1].split(",")[0]  # a crime of April, re-sent in May's file
    lines = may_file.read_text().splitlines()
    lines[1] = corrected + lines[1][lines[1].index(",") :]
    may_file.write_text("\n".join(lines) + "\n")
    april, may = (loader.ingest_file(crimes, path) for path in (april_file, may_file))

    done = reprocess.reprocess(crimes, "2024-04", REASON)
    assert [(d.old_batch, d.later_versions) for d in done] == [(april.batch_id, False), (may.batch_id, True)]
    assert done[0].new_batch < done[1].new_batch
    latest = (
        "select _batch_id, left(recorded_date, 7) from raw.police__recorded_crime where crime_reference = %s"
        " order by _batch_id desc, _source_row desc limit 1"
    )
    assert _rows(warehouse_url, latest, corrected) == [(done[1].new_batch, "2024-05")]
    assert _rows(warehouse_url, "select count(*) from audit.load_batch where status = 'loaded'")[0][0] == 2


def test_a_police_uk_month_without_a_record_key_is_reprocessed(warehouse_url, data_dir):
    street = get_dataset("police_uk__street_crime")
    _, (first, second) = _load_two_months(street)
    month = _rows(warehouse_url, "select min(month) from raw.police_uk__street_crime")[0][0]
    total = _rows(warehouse_url, "select count(*) from raw.police_uk__street_crime")[0][0]
    for _ in range(2):
        (done,) = reprocess.reprocess(street, month, REASON)
        assert done.new_rows == done.old_rows == done.month_rows == first.rows
    assert _rows(warehouse_url, "select count(*) from raw.police_uk__street_crime")[0][0] == total
    assert _rows(
        warehouse_url,
        "select count(*) from audit.load_batch where dataset = %s and supersedes is not null",
        street.name,
    ) == [(0,)]
