"""The gate's checks as an ordered list of steps, and the typed records the ingest tasks pass on.

A landed file goes through :data:`STEPS` in order: identifier screen, contract, pseudonymisation, linkage of
people, the GX suite, volume. Each step reads the :class:`GateFile` and returns its check results; the first step
that returns a critical failure stops the gate (a file with an identifier in it never reaches GX, a file with the
wrong header is never pseudonymised). ``partnership reprocess`` runs the same steps, but pseudonymisation and
linkage, on a kept copy.

What passes is an :class:`Accepted`; what :func:`partnership.loader.load` makes of it a :class:`Loaded`; content
already loaded a :class:`SkippedDuplicate`. Between Airflow tasks they travel as XComs: ``to_xcom()`` gives a
small dict of plain values and ``from_xcom()`` takes it back, so a missing or misspelt field fails at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from partnership import batch_audit, pseudonymise, screening
from partnership.batch_status import BatchStatus
from partnership.landing import sha256_of
from partnership.linkage import files as linkage_files
from partnership.registry import Dataset
from partnership.validation import ENCODING, CheckResult, check_contract, run_suite


@dataclass
class GateFile:
    """One file on its way through the steps: what the steps have learnt of it so far."""

    ds: Dataset
    path: Path  # the file the agency sent (or, in reprocess, the kept copy)
    plain: bool  # its lines are its records (validation.plain_lines)
    sha256: str = ""  # of the landed file: keys its people's records in the linkage index
    file_rows: list[int] = field(default_factory=list)  # rows dropped before checked (reprocess: by the first load)
    pseudonymised: pseudonymise.Outcome | None = None
    key_fingerprint: str | None = None  # "<id type>:<fingerprint> ..." of the keys that pseudonymised it
    rows: int | None = None  # data rows, once the suite has read them
    # How wide its records are, learnt by the screen's pass over a plain file: the contract reads only the header.
    shape: screening.RecordShape = field(default_factory=screening.RecordShape)

    @property
    def checked(self) -> Path:
        """What the suite reads and COPY loads: the pseudonymised copy when there is one."""
        return self.pseudonymised.path if self.pseudonymised else self.path

    @property
    def dropped_rows(self) -> list[int]:
        """File rows not in :attr:`checked` (sorted): those pseudonymisation or an earlier load rejected."""
        return self.pseudonymised.rejected_rows if self.pseudonymised else self.file_rows

    def agency_rows(self, rows: list[int], *, read: Path) -> list[int]:
        """Row numbers of the file ``read`` as rows of the file the agency sent (which it can look up)."""
        dropped = self.file_rows if read == self.path else self.dropped_rows
        return [pseudonymise.source_row(r, dropped) for r in rows] if dropped else rows


def screen_identifiers(file: GateFile) -> list[CheckResult]:
    """Direct identifiers: any in a column not declared for them fails the file before GX reads a value."""
    findings = screening.screen_file(file.path, file.ds, encoding=ENCODING, plain=file.plain, shape=file.shape)
    for f in findings:  # before the message is written from them
        f.rows = file.agency_rows(f.rows, read=file.path)
    return screen_checks(findings)


def check_the_contract(file: GateFile) -> list[CheckResult]:
    """Readable UTF-8, a header that is exactly the registry's columns, every record as wide as the header."""
    failed = check_contract(file.ds, file.path, plain=file.plain, shape=file.shape)
    if failed:
        failed.rows = file.agency_rows(failed.rows, read=file.path)
    return [failed] if failed else []


def pseudonymise_identifiers(file: GateFile) -> list[CheckResult]:
    """Replace the declared identifiers with keyed pseudonyms in a private copy, which the later steps read.

    Fails when a key differs from the one the dataset's last load used and no rotation was declared (its
    pseudonyms would link to nothing before). A row whose identifier is malformed is left out, with a warning
    naming its rows; a file of which every row is left out fails. Raises KeyUnavailable (the file stays landed)
    when a key is not configured.
    """
    if not file.ds.sends_raw_identifiers:
        return []
    fingerprints = pseudonymise.key_fingerprints(file.ds)
    changed = batch_audit.key_change(file.ds, fingerprints)
    if changed:
        return [changed]
    file.key_fingerprint = " ".join(f"{t}:{fp}" for t, fp in fingerprints.items())
    if not any(c.pseudonymise for c in file.ds.columns):
        return []
    outcome = file.pseudonymised = pseudonymise.pseudonymise_file(file.ds, file.path, encoding=ENCODING)
    severity = "critical" if outcome.rows_written == 0 else "warning"  # every row rejected: nothing to load
    return [
        CheckResult(
            f"pseudonymise: valid {r.id_type}", r.column, False, r.count, r.rows, severity=severity, message=r.text
        )
        for r in outcome.rejected
    ]


def link_people(file: GateFile) -> list[CheckResult]:
    """Link the people whose details the agency sent (the registry's ``linked_persons``): tokens into the linkage
    index, linked to everyone's records, and a private copy written with each person's partnership id in place
    of their details, which the later steps read. The check results hold counts only."""
    if not file.ds.linked_persons:
        return []
    target = pseudonymise.work_path(file.ds, file.path)
    linked = linkage_files.link_file(file.ds, file.checked, file.sha256 or sha256_of(file.path), target, ENCODING)
    rows = sum(c.records + c.without_details for c in linked.counts[:1])
    earlier = file.pseudonymised
    file.pseudonymised = pseudonymise.Outcome(
        target, rows, earlier.rejected_rows if earlier else list(file.file_rows), earlier.rejected if earlier else []
    )
    checks = []
    for c in linked.counts:
        counts = (
            f"{c.records} record(s) linked to {c.persons} person(s), {c.known_before} of them to people other"
            f" records already held; {c.without_details} row(s) gave no details ({linked.review_pairs} pair(s)"
            f" await clerical review, {linked.merges} person id(s) merged)"
        )
        checks.append(
            CheckResult(
                f"linkage: {c.person}",
                c.person,
                True,
                severity="warning",
                observed=counts,
                message=f"{c.person}: {counts}",
            )
        )
    return checks


def run_the_suite(file: GateFile) -> list[CheckResult]:
    """The dataset's GX suite over the checked file, with row numbers as in the file the agency sent."""
    report = run_suite(file.ds, file.checked)
    file.rows = report.row_count
    for c in report.checks:
        c.rows = file.agency_rows(c.rows, read=file.checked)
    return report.checks


def check_volume(file: GateFile) -> list[CheckResult]:
    """A warning when the file is far smaller than the dataset's recent loads."""
    volume = batch_audit.volume_check(file.ds, file.rows) if file.rows is not None else None
    return [volume] if volume else []


Step = Callable[[GateFile], list[CheckResult]]
STEPS: tuple[Step, ...] = (
    screen_identifiers,
    check_the_contract,
    pseudonymise_identifiers,
    link_people,
    run_the_suite,
    check_volume,
)


def run_steps(file: GateFile, steps: tuple[Step, ...] = STEPS) -> list[CheckResult]:
    """Every check the steps make, in order, up to and including the first step with a critical failure."""
    checks: list[CheckResult] = []
    for step in steps:
        checks += step(file)
        if failures(checks):
            break
    return checks


def failures(checks: list[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if not c.success and c.severity == "critical"]


def screen_checks(findings: list[screening.Finding]) -> list[CheckResult]:
    return [
        CheckResult(
            f"identifier screen: {f.rule}", f.column, False, f.count, f.rows, severity=f.severity, message=f.text
        )
        for f in findings
    ]


# -- what the ingest tasks pass on ---------------------------------------------------------------------------


class _Record:
    """A frozen dataclass that travels as an XCom: paths as strings, every field named."""

    def to_xcom(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_xcom(cls, values: dict):
        if "status" in values:  # written before these records (a run in flight across an upgrade): its dict
            values = _from_dict_outcome(values)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(values) - set(fields)
        if unknown:
            raise ValueError(f"{cls.__name__}: unexpected fields {sorted(unknown)}")
        return cls(**{k: Path(v) if "Path" in str(fields[k].type) and v is not None else v for k, v in values.items()})


def _from_dict_outcome(values: dict) -> dict:
    """The fields of an outcome as the loader's dicts held them: ``source_path`` was the landed file when it
    differed from ``path``; ``status`` and ``file`` are now the records' own."""
    values = {k: v for k, v in values.items() if k not in ("status", "file")}
    values["landed"] = values.pop("source_path", None) or values["path"]
    return values


@dataclass(frozen=True)
class Accepted(_Record):
    """A file that passed every step, to be loaded; its checks wait in a private file (the XCom stays small)."""

    landed: Path  # the file the agency sent: what audit records and quarantine keeps
    path: Path  # what COPY reads: the landed file, or its pseudonymised copy in work/
    sha256: str  # of the landed file
    rows: int
    load_sha256: str = ""  # of ``path`` (the landed file's own when it is the same file)
    checks_path: Path | None = None  # batch_audit.write_validation_record's file; load refuses a record without
    flagged: int = 0  # checks that did not pass but do not stop the file (warnings)
    key_fingerprint: str | None = None

    status = "accepted"

    def __post_init__(self):
        if not self.load_sha256:
            object.__setattr__(self, "load_sha256", self.sha256)


@dataclass(frozen=True)
class Loaded(_Record):
    """A file whose rows are in its raw table, as batch ``batch_id``."""

    landed: Path
    path: Path  # the file loaded: what processed/ keeps
    sha256: str
    batch_id: int
    rows: int

    status = BatchStatus.LOADED

    @property
    def file(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class SkippedDuplicate(_Record):
    """A file whose content was already loaded, as batch ``duplicate_of``: nothing new in raw."""

    landed: Path
    duplicate_of: int | None

    status = BatchStatus.SKIPPED_DUPLICATE

    @property
    def file(self) -> str:
        return self.landed.name
