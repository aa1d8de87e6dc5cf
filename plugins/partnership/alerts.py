"""Alerts to people, sent through Airflow's SMTP notifier (apache-airflow-providers-smtp).

Four kinds, each built here from what audit records, never from a file's values:

- a quarantined file: to the dataset's recipients (its data owner and the IG contact) and data engineering;
- a task failed after its retries: to data engineering;
- a late or missing extract: once per missed delivery, to the dataset's recipients;
- a daily digest of the last day's loads, quarantines and late extracts: to data engineering and IG.

Recipients are Airflow Variables holding comma-separated addresses: each dataset names its own in the registry
(``alert_recipients``), and ``alert_recipients_data_engineering`` gets failures and the digest. Nothing in the
repository holds an address. The mail server is the Airflow connection ``smtp_default`` (its ``from_email``
extra is the sender); with no recipients set, an alert is logged and not sent.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field

from airflow.providers.common.compat.notifier import BaseNotifier

log = logging.getLogger(__name__)

DATA_ENGINEERING = "alert_recipients_data_engineering"
SMTP_CONN_ID = "smtp_default"
SUBJECT_PREFIX = "[Partnership Warehouse]"


@dataclass(frozen=True)
class Alert:
    subject: str
    lines: tuple[str, ...]
    # Airflow Variable names whose values are the addresses to send to.
    recipient_variables: tuple[str, ...] = field(default=(DATA_ENGINEERING,))

    def html(self) -> str:
        return "<pre>" + html.escape("\n".join(self.lines)) + "</pre>"


def quarantine_alert(dataset, batch_id: int | None, file: str, reason: str) -> Alert:
    """``dataset`` is the registry Dataset; ``file`` the name audit recorded (withheld when it held an identifier).
    An e-mail leaves the warehouse: the name is shown only when it is the dataset's usual pattern and a period."""
    from partnership.screening import shown_file_name

    shown = shown_file_name(dataset, file)
    reason = reason.replace(file, shown) if file else reason
    file = shown
    return Alert(
        subject=f"{SUBJECT_PREFIX} Quarantined: {dataset.name} batch {batch_id}",
        lines=(
            f"Dataset: {dataset.name} ({dataset.agency}; agreement {dataset.sharing_agreement})",
            f"File: {file}",
            f"Batch: {batch_id}",
            f"Reason: {reason}",
            "",
            "The file is in quarantine and nothing of it was loaded; the agency's other files and the other",
            "agencies' loads went on. To see every failed check, with rows and columns:",
            f"  partnership quarantine show {batch_id}",
            "Then either land a corrected file in its place, or discard it:",
            f"  partnership quarantine release {batch_id} --file <corrected file>",
            f"  partnership quarantine discard {batch_id}",
        ),
        recipient_variables=(*dataset.alert_recipients, DATA_ENGINEERING),
    )


def task_failure_alert(context) -> Alert:
    """A task that failed for good. The exception's text is included only when this project wrote it (a
    preflight or a quarantine); any other error may quote data (a database error quotes the row), so only its
    type is sent, and the task log has the rest."""
    from partnership.preflight import ConfigurationFailure

    ti, error = context["ti"], context.get("exception")
    task = ti.task_id + (f" [{ti.map_index}]" if getattr(ti, "map_index", -1) not in (-1, None) else "")
    if error is None:  # failed without an exception in this process (killed, timed out by the scheduler)
        what = "none recorded (see the task log)"
    else:
        what = str(error) if isinstance(error, ConfigurationFailure) else type(error).__name__
    return Alert(
        subject=f"{SUBJECT_PREFIX} Failed: {ti.dag_id}.{ti.task_id}",
        lines=(
            f"DAG: {ti.dag_id}",
            f"Task: {task}",
            f"Run: {ti.run_id}",
            f"Try: {ti.try_number}",
            f"Error: {what}",
            "",
            "It has used its retries. Read the task log in the Airflow UI; when the cause is fixed, clear the task",
            "(docs/operating.md: Operating it).",
        ),
    )


def late_alert(dataset, missing: list) -> Alert:
    """``missing``: the dataset's newly recorded missed deliveries (partnership.timeliness.record_late)."""
    periods = ", ".join(f"{m.period.label} (due {m.period.due:%d %b %Y})" for m in missing)
    return Alert(
        subject=f"{SUBJECT_PREFIX} Late extract: {dataset.name} {', '.join(m.period.label for m in missing)}",
        lines=(
            f"Dataset: {dataset.name} ({dataset.agency}; agreement {dataset.sharing_agreement})",
            f"Not delivered by its due date: {periods}",
            f"Delivery calendar: {dataset.delivery}",
            "",
            "Until it arrives, figures for these periods are incomplete (the scorecard shows 'Incomplete quarter').",
            "Please ask the agency's data owner for the extract; this alert is sent once per missed delivery.",
        ),
        recipient_variables=(*dataset.alert_recipients, DATA_ENGINEERING),
    )


def _shown_reason(dataset: str, file: str, reason: str) -> str:
    """A quarantine reason as an e-mail may show it (the file's name only when it is the usual pattern)."""
    from partnership.registry import get_dataset
    from partnership.screening import shown_file_name

    try:
        shown = shown_file_name(get_dataset(dataset), file)
    except KeyError:  # a dataset since removed from the registry
        shown = "(name withheld)"
    return (reason or "").replace(file, shown) if file else (reason or "")


def recipients(variable_names: tuple[str, ...]) -> list[str]:
    """The addresses held in these Airflow Variables (comma- or semicolon-separated), without repeats."""
    from airflow.sdk import Variable

    found: list[str] = []
    for name in variable_names:
        value = Variable.get(name, default=None) or ""
        for address in value.replace(";", ",").split(","):
            if address.strip() and address.strip() not in found:
                found.append(address.strip())
    return found


def send(alert: Alert, context) -> bool:
    """Send through Airflow's SMTP notifier; return whether it was sent (False when nobody is set to get it)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    to = recipients(alert.recipient_variables)
    if not to:
        log.warning(
            "alert not sent (no addresses in the Airflow Variables %s): %s",
            ", ".join(alert.recipient_variables),
            alert.subject,
        )
        return False
    # notify() rather than calling the notifier: nothing here is a template, so a "{{" in a reason stays text.
    SmtpNotifier(to=to, subject=alert.subject, html_content=alert.html(), smtp_conn_id=SMTP_CONN_ID).notify(context)
    log.info("alert sent to %d recipient(s): %s", len(to), alert.subject)
    return True


class FailureNotifier(BaseNotifier):
    """on_failure_callback of every task: a quarantine goes to the dataset's people, any other failure (after
    the task's retries) to data engineering. An alert that cannot be sent is logged, never raised: the task has
    failed already and must show why, not a mail error."""

    def notify(self, context) -> None:
        from partnership.loader import QuarantinedFile
        from partnership.registry import get_dataset

        error = context.get("exception")
        cause = getattr(error, "__cause__", None)
        try:
            if isinstance(cause, QuarantinedFile):
                send(quarantine_alert(get_dataset(cause.dataset), cause.batch_id, cause.file, cause.reason), context)
            else:
                send(task_failure_alert(context), context)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.error("could not send the failure alert: %s", type(exc).__name__)


def digest_alert(conn, since, until) -> Alert:
    """The day's loads and quarantines, and the extracts still missing, from audit (no file's values)."""
    from partnership import timeliness

    loaded = conn.execute(
        "select dataset, count(*), coalesce(sum(row_count), 0) from audit.load_batch"
        " where status = 'loaded' and finished_at >= %s and finished_at < %s group by dataset order by dataset",
        (since, until),
    ).fetchall()
    quarantined = conn.execute(
        "select batch_id, dataset, file_name, reason from audit.load_batch"
        " where status = 'quarantined' and started_at >= %s and started_at < %s order by batch_id",
        (since, until),
    ).fetchall()
    today = until.astimezone(timeliness.UK).date()
    missing = [s for s in timeliness.timeliness(conn, today, lookback=3) if s.status == "missing"]
    files = sum(n for _, n, _ in loaded)
    # The window in UK time, as the schedule is (07:00 in London): labelled so, whatever zone it was given in.
    start, end = since.astimezone(timeliness.UK), until.astimezone(timeliness.UK)
    lines = [f"From {start:%d %b %Y %H:%M} to {end:%d %b %Y %H:%M} (UK time).", "", f"Loaded: {files} file(s)"]
    lines += [f"  {dataset}: {n} file(s), {rows} rows" for dataset, n, rows in loaded]
    lines.append(f"Quarantined: {len(quarantined)} file(s)")
    lines += [
        f"  batch {b} {dataset}: {_shown_reason(dataset, file, reason)}" for b, dataset, file, reason in quarantined
    ]
    lines.append(f"Extracts missing (last three due periods): {len(missing)}")
    lines += [f"  {s.dataset} {s.period.label}: {s.describe()}" for s in missing]
    lines += ["", "Quarantined files: partnership quarantine list. Deliveries: partnership deliveries."]
    return Alert(
        subject=f"{SUBJECT_PREFIX} Daily digest {today:%d %b %Y}: {files} loaded, {len(quarantined)} quarantined, "
        f"{len(missing)} missing",
        lines=tuple(lines),
        recipient_variables=(DATA_ENGINEERING, "alert_recipients_ig"),
    )
