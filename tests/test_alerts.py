"""Alerts to people, through Airflow's SMTP notifier and a real SMTP server (aiosmtpd): a late extract alerted once
per missed delivery, the daily digest, a quarantined file, a task failure (its type, never its message), and the
preflight checks that fail a DAG once, saying what to set, never a value.

The DAGs run for real with ``dag.test()`` in this process (Airflow's metadata in the session's throwaway SQLite),
against a real PostgreSQL warehouse; recipients and the mail server are Airflow Variables and a connection given
through the environment, as a deployment gives them."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import secrets
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import pendulum
import psycopg
import pytest
from airflow_cluster import SmtpSink, free_port
from conftest import with_database

from partnership import alerts, loader, preflight, settings, timeliness, warehouse
from partnership.demo import defects, generator
from partnership.registry import get_dataset

CRIMES = "police__recorded_crime"
FAULTY = "probation__caseload"  # gets a column of NHS numbers nobody agreed to share
RECIPIENTS = {
    "ALERT_RECIPIENTS_POLICE": "police-data-owner@partnership.invalid",
    "ALERT_RECIPIENTS_PROBATION": "probation-data-owner@partnership.invalid",
    "ALERT_RECIPIENTS_IG": "ig@partnership.invalid",
    "ALERT_RECIPIENTS_DATA_ENGINEERING": "data-engineering@partnership.invalid",
}
ADDRESS = {name.removeprefix("ALERT_RECIPIENTS_").lower(): address for name, address in RECIPIENTS.items()}
PREFIX = alerts.SUBJECT_PREFIX


def _to(message) -> set[str]:
    return {a.strip() for a in str(message["X-Envelope-To"]).split(",")}


def _values(path: Path) -> set[str]:
    """Values of a file an alert must never carry: every cell long enough not to occur by chance in prose (ids,
    NHS numbers, free text), except dates (a period or due date is what an alert is about)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))[1:]
    return {
        cell
        for row in rows
        for cell in row
        if len(cell) >= 6 and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?([ T][\d:]+)?", cell)
    }


def _leaks(text: str, values: set[str]) -> list[str]:
    return sorted(v for v in values if v in text)


# -- one delivery, run through the real DAGs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def delivery(server_url, airflow_db, dbt_manifest, tmp_path_factory):
    """A police delivery with one due month never sent, a probation file quarantined through its ingest DAG, and
    the deliveries DAG run on two days in a row, everything mailed to one SMTP sink. Shared by the tests below."""
    name = f"partnership_test_alerts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    tmp = tmp_path_factory.mktemp("alerts")
    with pytest.MonkeyPatch.context() as mp, SmtpSink() as smtp:
        mp.setenv("WAREHOUSE_URL", url)
        mp.setenv("PARTNERSHIP_DATA_DIR", str(tmp / "data"))
        mp.setenv("PARTNERSHIP_RETRY_DELAY_SECONDS", "1")
        mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp.connection())
        for variable, address in RECIPIENTS.items():
            mp.setenv(f"AIRFLOW_VAR_{variable}", address)
        warehouse.init_warehouse(url)
        landing = settings.landing_dir()

        # The run stands for the next 07:00 in London (the DAG's schedule), so today's loads are in its digest.
        now = pendulum.now("Europe/London")
        day1 = now.replace(hour=7, minute=0, second=0, microsecond=0)
        if day1 <= now:
            day1 = day1.add(days=1)
        crimes = get_dataset(CRIMES)
        due = timeliness.due_periods(crimes, day1.date(), 3)  # oldest first; the middle one is never sent
        first_month = due[0].start.strftime("%Y-%m")
        months = (due[-1].start.year - due[0].start.year) * 12 + due[-1].start.month - due[0].start.month + 1
        files = generator.generate(tmp / "generated", first_month=first_month, months=months, scale=0.05)

        def land(path: Path) -> Path:
            target = landing / path.relative_to(tmp / "generated")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            settings.upload_marker(target).touch()
            return target

        sent = [p for p in files[CRIMES] if p.stem.endswith((due[0].label, due[-1].label))]
        assert len(sent) == 2
        crime_values: set[str] = set()
        for path in sent:
            crime_values |= _values(path)
            assert loader.ingest_file(crimes, land(path)).status == "loaded"

        faulty = defects.inject(get_dataset(FAULTY), files[FAULTY][0], "direct_identifier")
        faulty = land(faulty)  # the file, then its upload-complete marker
        faulty_values = _values(faulty)
        with open(faulty, newline="") as f:
            planted = [row[-1] for row in list(csv.reader(f))[1:]]

        from partnership import runner

        dags = runner.load_dags()
        ingest_state = dags[f"ingest_{FAULTY}"].test().state
        after_ingest = len(smtp.messages)
        # The mail server is down at the first run: the late alerts cannot go, so nothing is recorded as alerted
        # (the next run sends them). No retries here: the point is what the failed try leaves behind.
        deliveries = dags["deliveries"]
        late_task = deliveries.task_dict["alert_late_deliveries"]
        retries, late_task.retries = late_task.retries, 0
        mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({**json.loads(smtp.connection()), "port": free_port()}))
        down = deliveries.test(logical_date=day1.subtract(hours=1))
        mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp.connection())
        late_task.retries = retries
        with psycopg.connect(url) as conn:
            recorded_while_down = conn.execute("select count(*) from audit.late_delivery").fetchone()[0]
        assert len(smtp.messages) == after_ingest
        runs = []
        for day in (day1, day1.add(days=1)):
            run = dags["deliveries"].test(logical_date=day)
            with psycopg.connect(url) as conn:
                late_rows = conn.execute(
                    "select dataset, period, due_date from audit.late_delivery order by dataset, period"
                ).fetchall()
            runs.append({"day": day, "state": run.state, "messages": len(smtp.messages), "late_rows": late_rows})
        with psycopg.connect(url) as conn:
            batches = conn.execute(
                "select batch_id, dataset, file_name, status, row_count, reason from audit.load_batch order by 1"
            ).fetchall()
        yield SimpleNamespace(
            url=url,
            smtp=smtp,
            messages=list(smtp.messages),
            after_ingest=after_ingest,
            ingest_state=str(getattr(ingest_state, "value", ingest_state)),
            runs=runs,
            down_state=str(getattr(down.state, "value", down.state)),
            recorded_while_down=recorded_while_down,
            due=due,
            missing=due[1],
            batches=batches,
            faulty=faulty,
            planted=planted,
            values=crime_values | faulty_values,
        )
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def _late_alerts(messages, dataset: str | None = None) -> list:
    """The late-extract alerts (of one dataset, when given)."""
    start = f"{PREFIX} Late extract: " + (f"{dataset} " if dataset else "")
    return [m for m in messages if str(m["Subject"]).startswith(start)]


def _digests(messages) -> list:
    return [m for m in messages if str(m["Subject"]).startswith(f"{PREFIX} Daily digest ")]


@pytest.mark.integration
def test_a_missed_delivery_is_alerted_once_and_not_again_the_next_day(delivery):
    first, second = delivery.runs
    assert str(getattr(first["state"], "value", first["state"])) == "success"
    assert str(getattr(second["state"], "value", second["state"])) == "success"
    day1 = delivery.messages[delivery.after_ingest : first["messages"]]
    day2 = delivery.messages[first["messages"] : second["messages"]]
    missing = delivery.missing

    # The run while the mail server was down failed and recorded nothing: this run alerted (and recorded) them.
    assert (delivery.down_state, delivery.recorded_while_down) == ("failed", 0)
    late = _late_alerts(day1, CRIMES)
    assert len(late) == 1, [str(m["Subject"]) for m in day1]
    alert = late[0]
    assert str(alert["Subject"]) == f"{PREFIX} Late extract: {CRIMES} {missing.label}"
    body = delivery.smtp.text(alert)
    assert f"Dataset: {CRIMES} (police;" in body
    assert f"{missing.label} (due {missing.due:%d %b %Y})" in body
    for sent in (delivery.due[0], delivery.due[-1]):  # delivered (late, but delivered): not in the alert
        assert sent.label not in body
    assert _to(alert) == {ADDRESS["police"], ADDRESS["ig"], ADDRESS["data_engineering"]}
    assert not _leaks(body, delivery.values)

    crimes_rows = [r for r in first["late_rows"] if r[0] == CRIMES]
    assert crimes_rows == [(CRIMES, missing.label, missing.due)]
    # Every other dataset sent nothing at all: each gets its own alert (one per dataset, its missed periods).
    others = {r[0] for r in first["late_rows"]} - {CRIMES}
    assert {str(m["Subject"]).split()[4] for m in _late_alerts(day1)} == others | {CRIMES}

    # The next day: nothing new recorded, no late alert again; the digest still goes.
    assert second["late_rows"] == first["late_rows"]
    assert _late_alerts(day2) == [], [str(m["Subject"]) for m in day2]
    assert len(_digests(day1)) == len(_digests(day2)) == 1


@pytest.mark.integration
def test_the_daily_digest_counts_what_audit_holds_for_the_day_and_no_values(delivery):
    first = delivery.runs[0]
    day1 = delivery.messages[delivery.after_ingest : first["messages"]]
    day2 = delivery.messages[first["messages"] :]
    (digest,) = _digests(day1)
    loaded = [b for b in delivery.batches if b[3] == "loaded"]
    quarantined = [b for b in delivery.batches if b[3] == "quarantined"]
    assert (len(loaded), len(quarantined)) == (2, 1)
    missing = first["late_rows"]  # every missing delivery of the last three due periods
    assert str(digest["Subject"]) == (
        f"{PREFIX} Daily digest {first['day']:%d %b %Y}: 2 loaded, 1 quarantined, {len(missing)} missing"
    )
    assert _to(digest) == {ADDRESS["data_engineering"], ADDRESS["ig"]}
    body = delivery.smtp.text(digest)
    since = first["day"].subtract(days=1)
    assert f"From {since:%d %b %Y} 07:00 to {first['day']:%d %b %Y} 07:00 (UK time)." in body
    assert f"{CRIMES}: 2 file(s), {sum(b[4] for b in loaded)} rows" in body
    (batch_id, dataset, file_name, _, _, _) = quarantined[0]
    assert f"batch {batch_id} {dataset}: {file_name}:" in body  # the reason names the file (its usual pattern)
    assert f"{CRIMES} {delivery.missing.label}: missing" in body
    assert not _leaks(body, delivery.values)
    assert not [p for p in delivery.planted if p in body]

    # The next day's digest: nothing loaded or quarantined in its window; the missing ones still listed.
    (next_digest,) = _digests(day2)
    assert ": 0 loaded, 0 quarantined, " in str(next_digest["Subject"])


@pytest.mark.integration
def test_a_quarantined_file_alerts_its_people_once_without_its_values(delivery):
    assert delivery.ingest_state == "failed"
    quarantined = [b for b in delivery.batches if b[3] == "quarantined"]
    assert [(b[1], b[2]) for b in quarantined] == [(FAULTY, delivery.faulty.name)]
    batch_id, _, file_name, _, _, reason = quarantined[0]
    during_ingest = delivery.messages[: delivery.after_ingest]
    assert [str(m["Subject"]) for m in during_ingest] == [f"{PREFIX} Quarantined: {FAULTY} batch {batch_id}"]
    alert = during_ingest[0]
    assert _to(alert) == {ADDRESS["probation"], ADDRESS["ig"], ADDRESS["data_engineering"]}
    body = delivery.smtp.text(alert)
    assert f"File: {file_name}" in body
    assert f"Batch: {batch_id}" in body
    assert f"Reason: {reason}" in body
    assert f"partnership quarantine show {batch_id}" in body
    assert not [p for p in delivery.planted if p in body]
    assert not _leaks(body, delivery.values)
    assert not [m for m in delivery.messages if " Failed: " in str(m["Subject"])]


# -- a task failure, and no recipients ---------------------------------------------------------------------------


def _context(error: BaseException) -> dict:
    ti = SimpleNamespace(
        dag_id="ingest_police__recorded_crime", task_id="load", map_index=3, run_id="manual__1", try_number=3
    )
    return {"ti": ti, "exception": error}


def test_a_task_failure_alert_carries_the_error_type_never_its_message():
    planted = "NHS 943 476 5919, " + secrets.token_hex(6)
    try:
        raise psycopg.errors.UniqueViolation(f"Key (nhs_number)=({planted}) already exists.")
    except psycopg.Error as exc:
        alert = alerts.task_failure_alert(_context(exc))
    text = alert.subject + "\n" + alert.html()
    assert alert.subject == f"{PREFIX} Failed: ingest_police__recorded_crime.load"
    assert "Error: UniqueViolation" in alert.html() and "Task: load [3]" in alert.html()
    assert planted not in text and "943 476 5919" not in text
    assert alert.recipient_variables == (alerts.DATA_ENGINEERING,)

    # A configuration failure (preflight: names settings, never values) is sent in full: it says what to set.
    alert = alerts.task_failure_alert(_context(preflight.ConfigurationFailure("configuration: set WAREHOUSE_URL")))
    assert "Error: configuration: set WAREHOUSE_URL" in alert.html()
    # Any other AirflowFailException goes by its type: retention's, say, quotes paths, which may hold a name.
    from airflow.sdk.exceptions import AirflowFailException

    alert = alerts.task_failure_alert(_context(AirflowFailException(f"could not delete /landing/{planted}/a.csv")))
    assert "Error: AirflowFailException" in alert.html() and planted not in alert.html()


def test_with_no_recipients_an_alert_is_logged_not_sent_and_never_raises(monkeypatch, caplog):
    for name in list(os.environ):
        if name.startswith("AIRFLOW_VAR_ALERT_RECIPIENTS"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 1}))
    alert = alerts.task_failure_alert(_context(ValueError("x")))
    with caplog.at_level(logging.WARNING, logger=alerts.__name__):
        assert alerts.send(alert, _context(ValueError("x"))) is False
    assert "alert not sent" in caplog.text and alerts.DATA_ENGINEERING in caplog.text
    # The failure callback never raises, even when the mail server cannot be reached.
    monkeypatch.setenv("AIRFLOW_VAR_ALERT_RECIPIENTS_DATA_ENGINEERING", ADDRESS["data_engineering"])
    with caplog.at_level(logging.ERROR, logger=alerts.__name__):
        alerts.FailureNotifier().notify(_context(ValueError("x")))
    assert "could not send the failure alert" in caplog.text


# -- preflight -----------------------------------------------------------------------------------------------------


def _connection(url: str, **changes) -> str:
    """The connection the project's runner gives Airflow for this URL, with some fields changed (None: left out)."""
    from partnership import runner

    fields = {**runner.airflow_connection(url), **changes}
    return json.dumps({k: v for k, v in fields.items() if v is not None})


@pytest.mark.integration
def test_preflight_names_what_to_set_for_the_warehouse_connection_never_a_value(warehouse_url, monkeypatch):
    secret_host = "warehouse-" + secrets.token_hex(4)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", _connection(warehouse_url, password=None))
    problems = preflight.connection_problems("warehouse", needs_password=True)
    assert len(problems) == 1 and "no password" in problems[0] and "AIRFLOW_CONN_WAREHOUSE" in problems[0]

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", _connection(warehouse_url, password="placeholder-" + secret_host))
    assert preflight.connection_problems("warehouse", needs_password=True) == []

    password = "pw-" + secrets.token_hex(8)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", _connection(warehouse_url, port=free_port(), password=password))
    problems = preflight.connection_problems("warehouse", needs_password=True)
    assert len(problems) == 1 and "Airflow connection 'warehouse': cannot connect" in problems[0]
    assert password not in problems[0]

    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE")
    problems = preflight.connection_problems("warehouse", needs_password=True)
    assert len(problems) == 1 and "not defined" in problems[0] and "AIRFLOW_CONN_WAREHOUSE" in problems[0]


@pytest.mark.integration
def test_preflight_reports_a_missing_key_and_an_unreachable_warehouse_without_values(warehouse_url, monkeypatch):
    referrals = get_dataset("health__navigator_referrals")  # pseudonymises nhs_number
    assert any(c.pseudonymise for c in referrals.columns)
    assert preflight.ingest_problems(referrals) == []

    key = os.environ["PSEUDONYMISATION_KEY_NHS_NUMBER"]
    monkeypatch.delenv("PSEUDONYMISATION_KEY_NHS_NUMBER")
    monkeypatch.delenv("AIRFLOW_VAR_PSEUDONYMISATION_KEY_NHS_NUMBER", raising=False)
    problems = preflight.ingest_problems(referrals)
    assert len(problems) == 1 and "PSEUDONYMISATION_KEY_NHS_NUMBER" in problems[0]
    assert key not in problems[0]
    assert preflight.ingest_problems(get_dataset(CRIMES)) == [], "a dataset with nothing to pseudonymise needs no key"

    password = "pw-" + secrets.token_hex(8)
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres:" + password + f"@127.0.0.1:{free_port()}/warehouse")
    problems = preflight.ingest_problems(get_dataset(CRIMES))
    assert len(problems) == 1 and problems[0].startswith("WAREHOUSE_URL: cannot connect")
    assert password not in problems[0]


def test_fail_on_fails_the_task_at_once_without_retries():
    from airflow.sdk.exceptions import AirflowFailException

    preflight.fail_on([])  # nothing wrong: nothing raised
    with pytest.raises(AirflowFailException, match="configuration: a; b"):
        preflight.fail_on(["a", "b"])


def test_the_deliveries_run_day_is_the_uk_day_even_for_a_manual_run_without_a_logical_date():
    from partnership.governance import _run_day

    scheduled = pendulum.datetime(2026, 6, 30, 7, tz="Europe/London")
    assert _run_day({"data_interval_end": scheduled, "logical_date": scheduled}).isoformat() == "2026-06-30"
    # An Airflow 3 manual run may have no logical date: the time it was due to run, in UK time (BST here).
    late_evening = pendulum.datetime(2026, 6, 30, 23, 30, tz="UTC")
    context = {"data_interval_end": None, "logical_date": None, "dag_run": SimpleNamespace(run_after=late_evening)}
    assert _run_day(context).isoformat() == "2026-07-01"


# --- what a hostile sender (or a mistyped setting) could get into an e-mail ------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "recorded_crime_2024-04_john_smith.csv",  # a name the screen's lists may not hold, in lower case
        "recorded_crime_2024-04_Fred_Bloggs.csv",
        "recorded_crime_2024-04_dob_2009-03-12.csv",  # a date is allowed in names, a date of birth is not
        "recorded_crime_jo.bloggs(at)nhs.net.csv",
        "recorded_crime_2024-04.csv\nReason: none, safe to release",  # a forged line in the e-mail
    ],
)
def test_an_alert_shows_a_file_name_only_when_it_is_the_usual_pattern(name):
    crimes = get_dataset("police__recorded_crime")
    alert = alerts.quarantine_alert(crimes, 7, name, f"{name}: column 3 (offence_date) rows 2, 5: not a date")
    text = alert.subject + alert.html()
    assert name not in text and "john_smith" not in text.lower() and "2009-03-12" not in text
    assert "name withheld" in text and "rows 2, 5" in text and "partnership quarantine show 7" in text
    usual = alerts.quarantine_alert(crimes, 8, "recorded_crime_2024-04.csv", "recorded_crime_2024-04.csv: x")
    assert "File: recorded_crime_2024-04.csv" in usual.html()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres{colon}{pw}%zz@127.0.0.1:5432/postgres",  # a "%" left unencoded in the password
        "postgresql:postgres:{pw}@127.0.0.1/postgres",  # the "//" missing
        "postgresql://postgres@127.0.0.1:{pw}/postgres",  # the password typed into the port
        "postgresql://postgres{colon}{pw}@127.0.0.1:5432/postgres?sslmode={pw}",
    ],
)
def test_preflight_never_quotes_a_mistyped_warehouse_url(monkeypatch, url):
    password = "Sup3r" + secrets.token_hex(6)
    monkeypatch.setenv("WAREHOUSE_URL", url.replace("{pw}", password).replace("{colon}", ":"))
    problems = preflight.ingest_problems(get_dataset("police__recorded_crime"))
    assert problems and "WAREHOUSE_URL" in problems[0]
    assert password not in " ".join(problems)


def test_preflight_never_quotes_a_password_typed_into_the_login(monkeypatch, server_url):
    password = "Sup3r" + secrets.token_hex(6)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", _connection(server_url, login=f"nobody:{password}", password="x"))
    problems = preflight.connection_problems("warehouse", needs_password=True)
    assert problems and password not in " ".join(problems)


def test_retention_failures_name_no_folder_or_file_holding_an_identifier(tmp_path):
    from partnership import retention

    folder = tmp_path / "John Smith 4010232137 dob 12-03-2009"
    shown = retention._shown(folder / "notes.json")
    assert "4010232137" not in shown and "John" not in shown and shown.endswith("notes.json")
    deleter = retention._Deleter(conn=None, deleted_by="test", dry_run=True)
    deleter.failed("police__recorded_crime", shown, PermissionError(13, "Permission denied", str(folder)))
    assert "4010232137" not in str(deleter.failures[0]) and "errno 13" in str(deleter.failures[0])
