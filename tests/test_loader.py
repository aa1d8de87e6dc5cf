"""Loading into a real PostgreSQL: one COPY transaction per file, audited; duplicates skipped; bad files
quarantined whole with nothing in raw."""

import hashlib
import json
import shutil
from pathlib import Path

import psycopg
import pytest

from partnership import batch_audit, loader, settings, validation, warehouse
from partnership.demo.generator import generate
from partnership.registry import get_dataset

pytestmark = pytest.mark.integration


@pytest.fixture
def landed(data_dir):
    """Two months of every dataset in the landing zone."""
    return generate(data_dir / "landing", months=2, scale=0.2)


def _scalar(url, query, *params):
    with warehouse.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def test_a_file_is_loaded_once_with_its_batch_record_and_filed_away(warehouse_url, landed, crimes, data_dir):
    path = landed["police__recorded_crime"][0]
    data_rows = sum(1 for _ in open(path)) - 1
    landed_sha = loader.sha256_of(path)
    outcome = loader.ingest_file(crimes, path)
    assert outcome.status == "loaded" and outcome.rows == data_rows
    assert (
        _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime where _batch_id = %s", outcome.batch_id)
        == data_rows
    )
    with warehouse.connect(warehouse_url) as conn:
        file_name, sha, rows, status, started, finished = conn.execute(
            "select file_name, file_sha256, row_count, status, started_at, finished_at from audit.load_batch"
        ).fetchone()
    # The batch is the file the agency sent; processed/ keeps the gate's copy (people linked, no details).
    assert (file_name, sha, rows, status) == (path.name, landed_sha, data_rows, "loaded")
    assert finished > started, "the batch records when its load began and when it committed"
    assert not path.exists() and (data_dir / "processed" / "police" / "recorded_crime" / path.name).exists()


def test_a_file_whose_checksum_was_loaded_is_skipped_not_loaded_twice(warehouse_url, landed, crimes, data_dir):
    path = landed["police__recorded_crime"][0]
    copy = path.with_name("recorded_crime_2024-04-resent.csv")
    shutil.copy(path, copy)
    first = loader.ingest_file(crimes, path)
    again = loader.ingest_file(crimes, copy)
    assert again == loader.SkippedDuplicate(landed=copy, duplicate_of=first.batch_id)
    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == first.rows
    assert (
        _scalar(
            warehouse_url,
            "select count(*) from audit.load_batch where status = 'skipped_duplicate' and duplicate_of = %s",
            first.batch_id,
        )
        == 1
    )


def test_the_database_refuses_a_second_load_of_the_same_content(warehouse_url, landed, crimes):
    """Even if two runs validate the same file at once, only one load commits."""
    path = landed["police__recorded_crime"][0]
    copy = path.with_name("copy.csv")
    shutil.copy(path, copy)
    accepted = loader.validate(crimes, path)
    accepted_copy = loader.validate(crimes, copy)
    assert loader.load(crimes, accepted).status == "loaded"
    assert loader.load(crimes, accepted_copy).status == "skipped_duplicate"
    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == accepted.rows


def _loaded_then_filing_failed(ds, path, run, monkeypatch):
    """Validate and load a landed file as the load task's first try, whose filing away then fails (a full
    disk) after the commit; (accepted, loaded)."""
    from partnership import landing

    accepted = loader.validate(ds, path, loaded_by=run)
    loaded = loader.load(ds, accepted, loaded_by=run)

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(landing, "file_away", disk_full)
        with pytest.raises(OSError):
            loader.mark_done(ds, loaded)
    return accepted, loaded


def test_a_retried_load_whose_copy_committed_files_the_file_away_and_loads_nothing(
    warehouse_url, landed, data_dir, monkeypatch
):
    """The load task COPYs, then files the file away. When filing fails after the commit (a full disk), the
    task's retry must find its own batch: not load the rows again, and not take the file for a duplicate of
    itself and discard the pseudonymised copy, which is the batch's only kept copy (reprocess reads it)."""
    nav = get_dataset("health__navigator_referrals")
    path = landed[nav.name][0]
    run = "airflow:ingest_health__navigator_referrals/manual__1"
    accepted, loaded = _loaded_then_filing_failed(nav, path, run, monkeypatch)

    again = loader.load(nav, accepted, loaded_by=run)  # the retry: load, then file away
    assert again == loaded
    loader.mark_done(nav, again)
    batches = _scalar(
        warehouse_url,
        "select array_agg(status::text order by batch_id) from audit.load_batch where dataset = %s",
        nav.name,
    )
    assert batches == ["loaded"]
    assert _scalar(warehouse_url, "select count(*) from raw.health__navigator_referrals") == loaded.rows
    (kept,) = (data_dir / "processed" / nav.landing_subdir).iterdir()
    assert kept.name == path.name and loader.sha256_of(kept) == accepted.load_sha256
    assert not path.exists() and not loaded.path.exists()


@pytest.mark.parametrize("dataset", ["health__navigator_referrals", "police__recorded_crime"])
def test_a_file_sent_again_under_its_name_before_a_load_retry_is_left_for_the_next_run(
    warehouse_url, landed, dataset, monkeypatch
):
    """Between a load's commit and its retry (after filing failed), the agency sends a corrected file under the
    same name. The retry must not delete it (a pseudonymised dataset's original goes once loaded) or file it
    away unloaded (a plain dataset's landed file is the loaded one): it waits, whole, for the next run's gate."""
    ds = get_dataset(dataset)
    path, other_month = landed[ds.name][:2]
    run = f"airflow:ingest_{ds.name}/manual__1"
    accepted, _ = _loaded_then_filing_failed(ds, path, run, monkeypatch)
    resent = other_month.read_bytes()  # other content, under the loaded file's name
    path.write_bytes(resent)
    settings.upload_marker(path).touch()

    try:  # the retry: load, then file away
        loader.mark_done(ds, loader.load(ds, accepted, loaded_by=run))
    except RuntimeError as exc:  # a plain dataset: the file it would file away is not the one it loaded
        assert "changed after it was loaded" in str(exc)
    assert path.read_bytes() == resent and settings.upload_marker(path).exists()
    assert _scalar(warehouse_url, "select count(*) from audit.load_batch where dataset = %s", ds.name) == 1


def test_a_raw_row_must_name_a_batch_the_audit_records(warehouse_url, landed, crimes):
    """The guarantee IG reads: every raw row comes from a recorded batch, and a batch with rows in raw is kept.
    Checked once per statement (insert, COPY, update), not row by row."""
    batch = loader.ingest_file(crimes, landed["police__recorded_crime"][0]).batch_id
    with warehouse.connect(warehouse_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="batch 999999 is not in audit.load_batch"):
            conn.execute("insert into raw.police__recorded_crime (_batch_id, _source_row) values (999999, 1)")
    with warehouse.connect(warehouse_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="raw.police__recorded_crime: batch 999999"):
            with conn.cursor().copy("copy raw.police__recorded_crime (_batch_id, _source_row) from stdin") as copy:
                copy.write_row((batch, 1))
                copy.write_row((999999, 2))
    with warehouse.connect(warehouse_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("update raw.police__recorded_crime set _batch_id = 999999 where _batch_id = %s", (batch,))
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("delete from audit.validation_result where batch_id = %s", (batch,))  # its own foreign key
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"batch {batch} still has rows in raw"):
            conn.execute("delete from audit.load_batch where batch_id = %s", (batch,))
    with warehouse.connect(warehouse_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"batch {batch} still has rows in raw"):
            conn.execute("truncate audit.load_batch cascade")
    assert _scalar(warehouse_url, "select count(*) from audit.load_batch where batch_id = %s", batch) == 1


def test_a_warehouse_made_with_the_row_by_row_foreign_key_is_moved_to_the_statement_check(warehouse_url):
    with warehouse.connect(warehouse_url) as conn:
        conn.execute(
            "alter table raw.police__recorded_crime add foreign key (_batch_id) references audit.load_batch (batch_id)"
        )
    warehouse.init_warehouse(warehouse_url)
    foreign_keys = _scalar(
        warehouse_url, "select count(*) from pg_constraint where contype = 'f' and connamespace = 'raw'::regnamespace"
    )
    triggers = _scalar(
        warehouse_url,
        "select count(*) from pg_trigger where tgrelid = 'raw.police__recorded_crime'::regclass and not tgisinternal",
    )
    assert (foreign_keys, triggers) == (0, 2)


def _loading_batch(conn, name: str) -> int:
    """A batch as the loader starts one (its own transaction may then write raw rows naming it)."""
    return conn.execute(
        "insert into audit.load_batch (dataset, file_name, file_sha256, status) values"
        " ('council__asb_requests', %s, repeat('b', 64), 'loading') returning batch_id",
        (name,),
    ).fetchone()[0]


def _orphans(url) -> int:
    return _scalar(
        url,
        "select count(*) from raw.council__asb_requests r"
        " where not exists (select 1 from audit.load_batch b where b.batch_id = r._batch_id)",
    )


def test_the_loader_cannot_renumber_the_batch_its_rows_name(warehouse_url):
    """An adversarial review's attack: the loader may change its own new batch row, so it wrote raw rows and
    then gave the batch a new number, leaving the rows naming nothing."""
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("set role pw_loader")
        batch = _loading_batch(conn, "a1.csv")
        conn.execute("insert into raw.council__asb_requests (_batch_id, _source_row) values (%s, 1)", (batch,))
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"batch {batch} may not be renumbered"):
            conn.execute("update audit.load_batch set batch_id = default where batch_id = %s", (batch,))
    assert _orphans(warehouse_url) == 0


@pytest.mark.parametrize("first", ["load", "delete"])
def test_a_delete_racing_a_load_leaves_no_raw_row_without_its_batch(warehouse_url, first):
    """The other attack the review made work: a load and a delete of its batch at the same time, each checking
    before the other committed. The check locks the batch as a foreign key does, so the second waits for the
    first and then refuses."""
    import threading

    with warehouse.connect(warehouse_url) as conn:
        conn.execute("set role pw_loader")
        batch = _loading_batch(conn, "race.csv")
    load, delete = psycopg.connect(warehouse_url), psycopg.connect(warehouse_url)
    statements = {
        "load": lambda: (
            load.execute("set role pw_loader"),
            load.execute("insert into raw.council__asb_requests (_batch_id, _source_row) values (%s, 1)", (batch,)),
        ),
        "delete": lambda: delete.execute("delete from audit.load_batch where batch_id = %s", (batch,)),
    }
    second = "delete" if first == "load" else "load"
    refused = []

    def run_second():
        try:
            statements[second]()
        except psycopg.errors.ForeignKeyViolation as exc:
            refused.append(str(exc))

    try:
        statements[first]()
        waiting = threading.Thread(target=run_second)
        waiting.start()
        waiting.join(timeout=2)
        assert waiting.is_alive(), f"the {second} did not wait for the {first}"
        (load if first == "load" else delete).commit()
        waiting.join(timeout=30)
        assert refused, f"the {second} went ahead"
        (delete if first == "load" else load).rollback()
    finally:
        load.close()
        delete.close()
    assert _orphans(warehouse_url) == 0


def test_a_batch_is_removed_only_where_the_check_can_see_every_load(warehouse_url, landed, crimes):
    """A repeatable-read snapshot cannot see raw rows committed while its delete waited; and a temporary table
    named like the catalog must not hide the raw tables from the check (both from the review)."""
    batch = loader.ingest_file(crimes, landed["police__recorded_crime"][0]).batch_id
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("set transaction isolation level repeatable read")
        conn.execute("delete from audit.validation_result where batch_id = %s", (batch,))
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="read committed"):
            conn.execute("delete from audit.load_batch where batch_id = %s", (batch,))
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("create temp table pg_attribute (attrelid oid, attname name, attisdropped bool)")
        conn.execute("delete from audit.validation_result where batch_id = %s", (batch,))
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="still has rows in raw"):
            conn.execute("delete from audit.load_batch where batch_id = %s", (batch,))


def test_a_table_added_to_raw_by_hand_gets_the_check_and_a_disabled_check_is_enabled_again(warehouse_url):
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("create table raw.council__asb_requests_2025 () inherits (raw.council__asb_requests)")
        conn.execute("alter table raw.council__asb_requests disable trigger user")
    warehouse.init_warehouse(warehouse_url)
    with warehouse.connect(warehouse_url) as conn:
        disabled = conn.execute(
            "select tgrelid::regclass::text, tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid"
            " where c.relnamespace = 'raw'::regnamespace and not tgisinternal and tgenabled = 'D'"
        ).fetchall()
        assert disabled == []
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="raw.council__asb_requests_2025: batch 424242"):
            conn.execute("insert into raw.council__asb_requests_2025 (_batch_id, _source_row) values (424242, 1)")


@pytest.mark.parametrize("name", ["police__recorded_crime", "health__navigator_referrals"])
def test_the_accepted_outcome_is_a_small_xcom_and_the_load_still_records_every_check(
    warehouse_url, landed, data_dir, name
):
    """The validate task's XCom names where its checks are (a private file in work/) instead of carrying them."""
    ds = get_dataset(name)
    path = landed[name][0]
    accepted = loader.validate(ds, path)
    assert accepted.status == "accepted"
    xcom = json.dumps(accepted.to_xcom())
    assert len(xcom) < 1000, xcom
    assert loader.Accepted.from_xcom(json.loads(xcom)) == accepted, "what the load task gets back is what was sent"
    sidecar = Path(accepted.checks_path)
    assert sidecar.parent == data_dir / "work" / ds.landing_subdir
    assert sidecar.stat().st_mode & 0o777 == 0o600
    kept = json.loads(sidecar.read_text())["checks"]
    assert len(kept) >= 10 and len(json.dumps(kept)) > 1000, "the checks are the bulk of what the XCom used to hold"

    loaded = loader.load(ds, accepted)
    assert loaded.status == "loaded" and not sidecar.exists()
    with warehouse.connect(warehouse_url) as conn:
        recorded = conn.execute(
            "select expectation, column_name, success, unexpected_count, severity, observed, threshold"
            " from audit.validation_result where batch_id = %s",
            (loaded.batch_id,),
        ).fetchall()
    fields = ("expectation", "column", "success", "unexpected_count", "severity", "observed", "threshold")
    assert sorted(recorded, key=repr) == sorted((tuple(c[f] for f in fields) for c in kept), key=repr)


def test_a_load_without_its_validation_record_is_refused_until_validated_again(warehouse_url, landed, crimes):
    path = landed["police__recorded_crime"][0]
    accepted = loader.validate(crimes, path)
    Path(accepted.checks_path).unlink()
    with pytest.raises(RuntimeError, match="validation record is missing"):
        loader.load(crimes, accepted)
    assert _scalar(warehouse_url, "select count(*) from audit.load_batch") == 0
    assert loader.ingest_file(crimes, path).status == "loaded"


def test_a_failing_file_is_quarantined_whole_with_a_reason(warehouse_url, landed, crimes, data_dir):
    path = landed["police__recorded_crime"][1]
    lines = path.read_text().splitlines()
    lines[6] = lines[6].replace(",N,", ",MAYBE,", 1)  # domestic_abuse_flag not Y/N, file row 7
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(loader.QuarantinedFile, match="column 'domestic_abuse_flag'"):
        loader.ingest_file(crimes, path)

    quarantined = data_dir / "quarantine" / "police" / "recorded_crime" / path.name
    assert quarantined.exists() and not path.exists()
    reason = json.loads(quarantined.with_name(path.name + ".reason.json").read_text())
    assert reason["failures"] == [
        f"{path.name}: column 'domestic_abuse_flag': expect_column_values_to_be_in_set failed for 1 row(s) at rows 7"
    ]
    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == 0
    with warehouse.connect(warehouse_url) as conn:
        status, reason_text = conn.execute("select status, reason from audit.load_batch").fetchone()
        failed = conn.execute(
            "select expectation, column_name, unexpected_count from audit.validation_result"
            " where not success and severity = 'critical'"
        ).fetchall()
    assert status == "quarantined" and "domestic_abuse_flag" in reason_text
    # (Warnings are recorded too, e.g. historic offences: offence dates a year or more before the recorded month.)
    assert failed == [("expect_column_values_to_be_in_set", "domestic_abuse_flag", 1)]


def test_other_datasets_load_while_one_is_quarantined(warehouse_url, landed):
    bad = landed["youth_justice__cases"][0]
    bad.write_text("")
    outcomes = {}
    for name, files in landed.items():
        for path in files:
            try:
                outcomes[path.name] = loader.ingest_file(get_dataset(name), path).status
            except loader.QuarantinedFile:
                outcomes[path.name] = "quarantined"
    assert outcomes.pop(bad.name) == "quarantined"
    assert set(outcomes.values()) == {"loaded"} and len(outcomes) == sum(map(len, landed.values())) - 1


def _as_the_gates_copy(ds, path):
    """The file as the gate's copy has it (person ids in place of people's details), in its place: what COPY reads."""
    from partnership.linkage.files import link_within_file

    if ds.linked_persons:
        link_within_file(ds, path, path.with_name("copy.csv")).replace(path)


def _past_the_gate(ds, path):
    """An accepted record for a file the gate never checked: its validation record written by hand, empty."""
    sha256 = loader.sha256_of(path)
    sidecar = batch_audit.write_validation_record(ds, path, sha256, [], [])
    return loader.Accepted(landed=path, path=path, sha256=sha256, rows=0, checks_path=sidecar)


def test_a_load_that_fails_part_way_leaves_nothing_behind(warehouse_url, landed, crimes, data_dir):
    """The COPY and the batch share one transaction: a record the database refuses rolls back the whole file,
    which is then quarantined with the row number but without the record's values."""
    path = landed["police__recorded_crime"][0]
    _as_the_gates_copy(crimes, path)
    with open(path, "a") as f:  # a NUL byte: PostgreSQL text cannot hold it (the gate is skipped here)
        f.write("CR202404999999,2024-04-30,Robbery,E01005065,N,,,,secret\x00value\n")
    accepted = _past_the_gate(crimes, path)
    rows_in_file = sum(1 for _ in open(path))

    with pytest.raises(loader.QuarantinedFile, match=f"database refused the file .* at rows {rows_in_file}"):
        loader.load(crimes, accepted)

    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == 0
    with warehouse.connect(warehouse_url) as conn:
        batches = conn.execute("select status, reason from audit.load_batch").fetchall()
    assert [status for status, _ in batches] == ["quarantined"]
    assert "secret" not in batches[0][1]
    assert (data_dir / "quarantine" / "police" / "recorded_crime" / path.name).exists()


def test_a_file_changed_after_validation_is_not_loaded(warehouse_url, landed, crimes):
    path = landed["police__recorded_crime"][0]
    accepted = loader.validate(crimes, path)
    with open(accepted.path, "a") as f:  # what COPY reads: the gate's copy (people linked)
        f.write("CR202404999999,2024-04-30,Robbery,E01005065,N,,,,\n")
    with pytest.raises(RuntimeError, match="changed after it was validated"):
        loader.load(crimes, accepted)
    assert _scalar(warehouse_url, "select count(*) from audit.load_batch") == 0
    assert path.exists(), "left in the landing zone for the next run to validate again"


def test_repeated_keys_across_chunks_are_caught_at_load(warehouse_url, landed, crimes, monkeypatch, data_dir):
    """GX checks uniqueness chunk by chunk; the loader checks the whole file inside its transaction."""
    from partnership import validation

    path = landed["police__recorded_crime"][0]
    lines = path.read_text().splitlines()
    lines.append(lines[1])  # the first record again, at the end of the file
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(validation.run, "CHUNK_ROWS", 50)  # so the two copies fall in different chunks
    with pytest.raises(loader.QuarantinedFile, match=f"at rows {len(lines)}"):
        loader.ingest_file(crimes, path)
    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == 0
    assert (data_dir / "quarantine" / "police" / "recorded_crime" / path.name).exists()


def test_a_file_still_being_written_is_not_picked_up(warehouse_url, landed, crimes, data_dir):
    """Complete means a `<name>.done` marker beside it, or (unless the registry asks for a marker) no change for
    the dataset's quiet period. Files are aged with os.utime, not by waiting."""
    import dataclasses
    import os
    import time

    from partnership.registry import UploadComplete

    sent = landed["police__recorded_crime"][0]
    marker = sent.with_name(sent.name + ".done")
    assert marker.exists(), "the generator writes a marker after each file, as an agency should"
    assert str(sent) in loader.find_new_files(crimes)
    assert not any(name.endswith(".done") for name in loader.find_new_files(crimes))

    half = sent.with_name("recorded_crime_2024-09.csv")  # still uploading: the first rows only, cut at a row end
    half.write_text("".join(sent.read_text().splitlines(keepends=True)[:5]))
    assert str(half) not in loader.find_new_files(crimes)
    half.with_name(half.name + ".done").touch()
    assert str(half) in loader.find_new_files(crimes)
    half.with_name(half.name + ".done").unlink()
    quiet = crimes.upload_complete.quiet_seconds
    os.utime(half, (time.time() - quiet + 60,) * 2)
    assert str(half) not in loader.find_new_files(crimes)
    os.utime(half, (time.time() - quiet - 1,) * 2)
    assert str(half) in loader.find_new_files(crimes)
    marker_only = dataclasses.replace(crimes, upload_complete=UploadComplete(marker=True))
    assert str(half) not in loader.find_new_files(marker_only), "this dataset's agency always sends a marker"

    loader.ingest_file(crimes, sent)
    assert not marker.exists(), "the marker goes when its file is filed away"


def test_a_filed_file_ages_from_its_filing_not_from_the_time_its_sender_gave_it(warehouse_url, landed, crimes):
    """Retention deletes processed and quarantined files by their age: a landed file dated 2100 must not be kept
    for ever."""
    import os
    import time

    path = landed["police__recorded_crime"][0]
    year_2100 = 4102444800
    os.utime(path, (year_2100, year_2100))
    loader.ingest_file(crimes, path)
    filed = settings.processed_dir() / crimes.landing_subdir / path.name
    assert abs(filed.stat().st_mtime - time.time()) < 600


def test_files_and_folders_the_gate_writes_are_private(warehouse_url, landed, crimes, data_dir):
    """Pseudonymised copies, processed and quarantined files and reason files: 0600 in 0700 folders."""
    import os
    import stat

    os.umask(0o022)  # the usual default, which would make them readable by everyone
    nav = get_dataset("health__navigator_referrals")
    loaded = loader.ingest_file(nav, landed[nav.name][0])
    filed = data_dir / "processed" / nav.landing_subdir / landed[nav.name][0].name
    assert filed.exists() and loaded.status == "loaded"
    bad = landed["police__recorded_crime"][0]
    bad.write_text(bad.read_text().splitlines()[0] + "\nnot,a,valid,row\n")
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(crimes, bad)
    quarantined = data_dir / "quarantine" / crimes.landing_subdir / bad.name

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    for path in (filed, quarantined, quarantined.with_name(bad.name + ".reason.json")):
        assert mode(path) == 0o600, path
    work = data_dir / "work" / nav.landing_subdir
    for folder in (
        work,
        work.parent,
        work.parent.parent,
        filed.parent,
        filed.parent.parent,
        filed.parent.parent.parent,
    ):
        assert mode(folder) == 0o700, folder
    for folder in (quarantined.parent, quarantined.parent.parent, quarantined.parent.parent.parent):
        assert mode(folder) == 0o700, folder


def test_generated_months_of_police_uk_layouts_each_load_and_supersede_nothing(warehouse_url, landed):
    """The generator writes one file per month: no file is a re-issue, so every row of every file counts."""
    for name in ("police_uk__street_crime", "police__stop_search"):
        ds = get_dataset(name)
        outcomes = [loader.ingest_file(ds, path) for path in landed[name]]
        assert [o.status for o in outcomes] == ["loaded", "loaded"], name
        assert _scalar(warehouse_url, "select count(*) from audit.load_batch where supersedes is not null") == 0


POLICE_UK_FILE = Path(__file__).parent / "data" / "police_uk" / "2022-11-surrey-street.csv"


@pytest.mark.parametrize(
    "variant",
    ["crlf", "lf", "no last line break", "quoted fields", "quoted empty field", "mixed line endings"],
)
def test_copy_loads_each_cell_as_the_row_by_row_copy_did(warehouse_url, data_dir, monkeypatch, variant):
    """Plain files (no quote, one line ending) are sent to COPY as bytes, others row by row: either way raw holds
    each record as Python's csv reader reads it, an empty field as NULL, with its file row number."""
    import csv
    import io

    monkeypatch.setattr(loader, "COPY_BLOCK", 1000)  # blocks end inside lines, and between "\r" and "\n"
    ds = get_dataset("police_uk__street_crime")
    with open(POLICE_UK_FILE, newline="", encoding="utf-8") as f:
        header, *records = list(csv.reader(f))[:400]
    quoting = csv.QUOTE_ALL if variant.startswith("quoted") else csv.QUOTE_MINIMAL
    text = io.StringIO()
    csv.writer(text, lineterminator="\n" if variant == "lf" else "\r\n", quoting=quoting).writerows([header, *records])
    data = text.getvalue()
    if variant == "quoted empty field":
        assert '""' in data  # an empty Context, quoted: NULL as before
    if variant == "no last line break":
        data = data.removesuffix("\r\n")
    if variant == "mixed line endings":
        data = data.replace("\r\n", "\n", 50)
    landing = data_dir / "landing" / ds.landing_subdir
    landing.mkdir(parents=True)
    path = landing / POLICE_UK_FILE.name
    path.write_bytes(data.encode())

    outcome = loader.ingest_file(ds, path)

    assert outcome.status == "loaded" and outcome.rows == len(records)
    with warehouse.connect(warehouse_url) as conn:
        loaded = conn.execute(
            f"select _source_row, {', '.join(ds.column_names)} from raw.police_uk__street_crime order by _source_row"
        ).fetchall()
    assert loaded == [(n, *(v or None for v in r)) for n, r in enumerate(records, start=2)]


def test_only_plain_files_are_sent_to_copy_as_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(validation.contract, "PLAIN_BLOCK", 4)
    cases = {
        b"a,b\r\n1,2\r\n3,4\r\n": True,
        b"a,b\n1,2\n3,4": True,
        b"a,b\r\n1,2\n": False,  # mixed endings: PostgreSQL refuses them
        b"a,b\r1,2\r": False,  # a lone "\r" ends a record for Python only
        b'a,b\n1,"2"\n': False,
        b"a,b\n1,\\.\n": True,  # a backslash means nothing in CSV format
        b"a,b\n1,\x00\n": False,  # a NUL byte: not plain (PostgreSQL refuses it on the row-by-row path)
        b'a,"b"\r\n1,2\n': False,  # a quote in the first block, mixed endings after it
        b"a,b\r\n1,2\r\n3,4\n": False,  # mixed, the bare "\n" in a block with no "\r"
        b"a,b\n1,2\n3,4\r\n": False,  # mixed, the "\r\n" last
        b"abc\r\nd\r\nefg\r\n": True,  # "\r" at a block's end, its "\n" starting the next block
        b"abc\r\n1234\n": False,  # the same, then a bare "\n"
    }
    for n, (data, plain) in enumerate(cases.items()):
        (tmp_path / f"{n}.csv").write_bytes(data)
        assert validation.plain_lines(tmp_path / f"{n}.csv") is plain, data
        # The gate reads each file once for its checksum and this: the same answer, and the file's own checksum.
        assert validation.sha256_and_plain_lines(tmp_path / f"{n}.csv") == (hashlib.sha256(data).hexdigest(), plain)


def test_a_plain_file_the_database_refuses_is_quarantined_with_its_row(warehouse_url, landed, crimes, data_dir):
    """Sent as bytes, a record the database refuses still names its file row (COPY's line + 1) and no value."""
    path = landed["police__recorded_crime"][0]
    _as_the_gates_copy(crimes, path)
    with open(path, "a") as f:  # one field short (the gate is skipped here)
        f.write("CR202404999999,2024-04-30,Robbery,E01005065,N,,,secret\n")
    assert validation.plain_lines(path)
    accepted = _past_the_gate(crimes, path)
    rows_in_file = sum(1 for _ in open(path))

    with pytest.raises(loader.QuarantinedFile, match=f"database refused the file .* at rows {rows_in_file}$"):
        loader.load(crimes, accepted)
    assert _scalar(warehouse_url, "select count(*) from raw.police__recorded_crime") == 0
    assert "secret" not in _scalar(warehouse_url, "select reason from audit.load_batch")
