"""The source registry: one YAML file per dataset in ``registry/``.

It is the single description of each dataset. The ingest DAGs, the Great Expectations suites, the raw
tables, the dbt sources and the staging models are all derived from it, so adding a dataset means adding
one YAML file (then ``partnership registry sync`` writes the derived files).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REGISTRY_DIR = Path(__file__).parent / "registry"

CADENCES = ("daily", "weekly", "monthly", "termly", "annual")
COLUMN_TYPES = ("string", "integer", "decimal", "date", "datetime", "month")
# Pseudonymised person keys are HMAC-SHA256 digests, written as 64 lower-case hex characters.
PERSON_KEY_PATTERN = "^[0-9a-f]{64}$"
# How a text value must look to be of the column's type: integers by pattern; dates and datetimes by strftime
# format, which GX checks by parsing (so 2024-02-30 is refused, not just oddly shaped values).
TYPE_PATTERNS = {"integer": r"^-?[0-9]+$", "decimal": r"^-?[0-9]+(?:\.[0-9]+)?$"}
DATE_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "month": "%Y-%m"}
# How staging casts each type (raw tables hold text: an exact copy of the accepted file).
# Raw identifiers an agreement may let an agency send for linkage; each has its own pseudonymisation key.
SEVERITIES = ("critical", "warning")
PSEUDONYMISE_TYPES = ("nhs_number", "upn", "pnc_id")
# What may be done with aggregates derived from a dataset, from the most to the least restricted:
#   none        no aggregate leaves the analysts: no publish model may use it;
#   partnership disclosure-controlled aggregates may go to the partnership's own bodies (CSP Board, Core Group),
#               not to public papers;
#   public      aggregates may be published after the partnership's disclosure control.
# `partnership` and `public` need the clause of the dataset's agreement that grants them
# (partnership.publication checks the dbt manifest against these levels).
PUBLICATION_LEVELS = ("none", "partnership", "public")
SQL_TYPES = {
    "string": "text",
    "integer": "integer",
    "decimal": "numeric",
    "date": "date",
    "datetime": "timestamp",
    "month": "date",  # the first day of the month
}


class RegistryError(ValueError):
    """A registry file is malformed."""


# -- delivery calendar -------------------------------------------------------------------------------------
# The periods an agency delivers extracts for (partnership.timeliness has their boundaries):
#   day     a calendar day;
#   week    Monday to Sunday (labelled by ISO week, 2024-W41);
#   month   a calendar month;
#   term    a school term, fixed boundaries: autumn 1 Sep - 31 Dec, spring 1 Jan - 31 Mar, summer 1 Apr - 31 Jul
#           (August is no term's; labelled by academic year, 2024/25-autumn);
#   year    the financial year April - March (2024/25), or the calendar year (2024) with `year: calendar`.
DELIVERY_PERIODS = ("day", "week", "month", "term", "year")
YEAR_KINDS = ("financial", "calendar")
# The delivery calendar a dataset gets when its YAML gives none, from its cadence.
DEFAULT_DELIVERY = {
    "daily": ("day", 1),
    "weekly": ("week", 3),
    "monthly": ("month", 10),
    "termly": ("term", 20),
    "annual": ("year", 20),
}
# Airflow Variable names: letters, digits, dots, dashes and underscores (an address has an @, and is refused).
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


@dataclass(frozen=True)
class Delivery:
    """When a dataset's extract for each period is due: by its ``due_working_days``-th working day (England and
    Wales: not a weekend, not a bank holiday) after the period ends. ``{every: month, due_working_days: 10}``:
    October's extract is due by the 10th working day of November."""

    every: str  # one of DELIVERY_PERIODS
    due_working_days: int
    year: str = "financial"  # for every: year, one of YEAR_KINDS

    def __str__(self) -> str:
        what = f"{self.year} year" if self.every == "year" else self.every
        return f"every {what}, due by working day {self.due_working_days} after it ends"


# The span of records a file of a dataset without a record key is taken to cover (see Supersession).
SUPERSEDE_PERIODS = ("month",)


@dataclass(frozen=True)
class Supersession:
    """What a file of a dataset without a record key covers: a file holding records of a period (a month)
    already loaded supersedes the rows earlier batches hold for that period (police.uk re-issues a month when
    outcomes change). Raw keeps every batch; staging counts only the latest batch of each period."""

    period: str  # one of SUPERSEDE_PERIODS
    column: str  # the column whose value says which period a row is of (police.uk's Month)
    # The columns that say whose part of the period a row is (police.uk's Reported by: a file is one force's):
    # a file supersedes only the rows of the period with the same values in these. Empty: the whole period.
    within: tuple[str, ...] = ()


@dataclass(frozen=True)
class Publication:
    """What may be done with aggregates derived from a dataset, and the agreement clause that says so."""

    aggregates: str  # one of PUBLICATION_LEVELS
    clause: str | None = None  # the agreement's reference and clause granting the level

    def allows(self, level: str) -> bool:
        """Whether aggregates may go to an audience at ``level`` (``partnership`` or ``public``)."""
        return PUBLICATION_LEVELS.index(self.aggregates) >= PUBLICATION_LEVELS.index(level)

    def __str__(self) -> str:
        return f"{self.aggregates}: {self.clause}" if self.clause else self.aggregates


@dataclass(frozen=True)
class UploadComplete:
    """When a landed file counts as complete, so that a file still being uploaded is never read (README:
    Upload-complete rule): a ``<name>.done`` marker beside it always counts; without one, the file must not have
    changed for ``quiet_seconds``, unless the dataset asks for a marker (``marker: true``)."""

    marker: bool = False
    quiet_seconds: int = 300


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    required: bool = False
    allowed: tuple[str, ...] | None = None
    min: object = None
    max: object = None
    pattern: str | None = None
    identifier: str | None = None  # e.g. "person": a pseudonymised key that links people across agencies
    header: str | None = None  # the column's name in the agency's file, when it is not `name` (police.uk)
    format: str | None = None  # strftime format of a date/datetime column, when not the default
    description: str | None = None

    @property
    def file_header(self) -> str:
        return self.header or self.name

    # The agency sends a raw identifier of this type (e.g. "nhs_number") under its data-sharing agreement;
    # the gate replaces it by a keyed hash before anything is loaded (see partnership.pseudonymise).
    pseudonymise: str | None = None
    # Value checks (pattern, type, allowed, range) quarantine the batch when "critical"; when "warning" the
    # batch loads and is flagged.
    severity: str = "critical"
    # For an optional column: the share of rows that should have a value (a warning below it), e.g. ethnicity.
    completeness: float | None = None
    # Text the agency's staff type freely (notes, descriptions): screened for people's names as well.
    free_text: bool = False

    @property
    def sql_type(self) -> str:
        if self.type == "datetime" and "%z" in (self.date_format or ""):
            return "timestamptz"
        return SQL_TYPES[self.type]

    @property
    def date_format(self) -> str | None:
        return self.format or DATE_FORMATS.get(self.type)

    @property
    def value_pattern(self) -> str | None:
        """The pattern every non-empty value must match: the declared one, else the type's or key's."""
        if self.pattern:
            return self.pattern
        if self.identifier == "person" or self.pseudonymise:
            return PERSON_KEY_PATTERN  # pseudonymised columns are checked after the gate has replaced them
        if self.date_format:
            return strftime_pattern(self.date_format)
        return TYPE_PATTERNS.get(self.type)


# strftime parsing forgives a space for a leading zero ("2024-01- 2"), which PostgreSQL's casts (staging,
# retention's record dates) refuse: dates must also match this pattern, digit for digit.
_STRFTIME_PARTS = {
    "%Y": "[0-9]{4}",
    "%m": "[0-9]{2}",
    "%d": "[0-9]{2}",
    "%H": "[0-9]{2}",
    "%M": "[0-9]{2}",
    "%S": "[0-9]{2}",
    "%z": "(?:Z|[+-][0-9]{2}:?[0-9]{2})",
    "%%": "%",
}


def strftime_pattern(date_format: str) -> str:
    """The regular expression a value written in ``date_format`` matches (its directives as fixed-width digits)."""
    parts = re.split(r"(%.)", date_format)
    return "^" + "".join(_STRFTIME_PARTS.get(p, ".+?") if p.startswith("%") else re.escape(p) for p in parts) + "$"


@dataclass(frozen=True)
class Dataset:
    agency: str
    dataset: str
    description: str
    landing_pattern: str
    cadence: str
    record_date_column: str
    key_columns: tuple[str, ...]
    lawful_basis: str
    sharing_agreement: str
    retention_months: int
    publication: Publication
    columns: tuple[Column, ...] = field(default_factory=tuple)
    origin: str = "agency extract"  # or "synthetic" (made by the generator), "public" (open data)
    linkage: str | None = None  # how its person keys link to other agencies' data
    # Partners (besides the agency itself) whose restricted analysts may see this agency's person-level rows.
    shared_with: tuple[str, ...] = ()
    upload_complete: UploadComplete = UploadComplete()
    # Days a quarantined file is kept for IG to look at before retention deletes it (its reason file stays). Any
    # quarantined file may hold direct identifiers: the screen's findings, a column no agreement vetted, the raw
    # identifiers a dataset sends for pseudonymisation, or content the screen could not read.
    quarantine_days: int = 30
    # A person's name found in a free-text column: "warning" (loads, flagged) or "critical" (quarantined).
    name_screen: str = "warning"
    supersedes_by: Supersession | None = None  # required when key_columns is empty
    # When the record date is when the event was recorded, the date it happened (e.g. an offence date): rows dated
    # before the file's month are historic, loaded with a warning that counts them (partnership.validation).
    event_date_column: str | None = None
    # When each period's extract is due (partnership.timeliness); default from cadence (DEFAULT_DELIVERY).
    delivery: Delivery | None = None
    # Who is told about this dataset's late or quarantined extracts: the NAMES of Airflow Variables, each holding
    # comma-separated e-mail addresses (never an address in the repo): the agency's data owner and the IG contact.
    alert_recipients: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.delivery is None and self.cadence in DEFAULT_DELIVERY:
            every, days = DEFAULT_DELIVERY[self.cadence]
            object.__setattr__(self, "delivery", Delivery(every=every, due_working_days=days))
        if not self.alert_recipients:
            object.__setattr__(self, "alert_recipients", (f"alert_recipients_{self.agency}", "alert_recipients_ig"))

    @property
    def name(self) -> str:
        """``<agency>__<dataset>``: the raw table, the GX suite and the dbt source table are named so."""
        return f"{self.agency}__{self.dataset}"

    @property
    def agreement_reference(self) -> str:
        """The sharing agreement's reference: its text before any parenthesis, e.g. ``MCSP-DSA-001``."""
        return self.sharing_agreement.split("(")[0].strip()

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def landing_subdir(self) -> Path:
        return Path(self.agency) / self.dataset

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def file_headers(self) -> list[str]:
        """The header row an agency's file must have, in order."""
        return [c.file_header for c in self.columns]

    @property
    def person_key_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.identifier == "person"]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _publication(path: Path, value) -> Publication:
    if not isinstance(value, dict) or set(value) - {"aggregates", "clause"}:
        raise RegistryError(
            f"{path.name}: publication must be a mapping {{aggregates: none|partnership|public, clause: ...}}"
        )
    level, clause = value.get("aggregates"), (value.get("clause") or "").strip() or None
    if level not in PUBLICATION_LEVELS:
        raise RegistryError(f"{path.name}: publication aggregates must be one of {', '.join(PUBLICATION_LEVELS)}")
    if level != "none" and not clause:
        raise RegistryError(f"{path.name}: publication {level} needs the agreement clause that allows it")
    return Publication(aggregates=level, clause=clause)


def _upload_complete(path: Path, value) -> UploadComplete:
    if value is None:
        return UploadComplete()
    if not isinstance(value, dict) or set(value) - {"marker", "quiet_seconds"}:
        raise RegistryError(f"{path.name}: upload_complete must be a mapping {{marker: true|false, quiet_seconds: N}}")
    rule = UploadComplete(**value)
    if not isinstance(rule.marker, bool):
        raise RegistryError(f"{path.name}: upload_complete marker must be true or false")
    if type(rule.quiet_seconds) is not int or rule.quiet_seconds < 1:
        raise RegistryError(f"{path.name}: upload_complete quiet_seconds must be a whole number of seconds, at least 1")
    return rule


def _supersession(path: Path, value) -> Supersession | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not {"period", "column"} <= set(value) <= {"period", "column", "within"}:
        raise RegistryError(
            f"{path.name}: supersedes_by must be a mapping {{period: month, column: <its column>}}"
            " (and optionally within: [<column>, ...])"
        )
    if value["period"] not in SUPERSEDE_PERIODS:
        raise RegistryError(f"{path.name}: supersedes_by period must be one of {', '.join(SUPERSEDE_PERIODS)}")
    within = value.get("within", [])
    if "within" in value and (
        not isinstance(within, list)
        or not within
        or not all(isinstance(c, str) for c in within)
        or len(set(within)) != len(within)
    ):
        raise RegistryError(f"{path.name}: supersedes_by within must be a list of distinct column names")
    return Supersession(period=value["period"], column=value["column"], within=tuple(within))


def _check_supersession(path: Path, ds: Dataset) -> None:
    rule = ds.supersedes_by
    if rule is None:
        if not ds.key_columns:  # a re-sent file would otherwise count twice
            raise RegistryError(
                f"{path.name}: no record key: say which month a file supersedes (supersedes_by), or give key_columns"
            )
        return
    if ds.key_columns:
        raise RegistryError(
            f"{path.name}: supersedes_by is for datasets without a record key; this one has a record key"
        )
    if rule.column not in ds.column_names:
        raise RegistryError(f"{path.name}: supersedes_by {rule.column!r} is not one of its columns")
    column = ds.column(rule.column)
    # The period is read from the raw text's first characters (YYYY-MM), as the file has it.
    if column.type not in ("month", "date", "datetime") or not (column.date_format or "").startswith("%Y-%m"):
        raise RegistryError(
            f"{path.name}: supersedes_by column {rule.column!r} must be a month, date or datetime written YYYY-MM..."
        )
    for name in rule.within:
        if name == rule.column:
            raise RegistryError(f"{path.name}: supersedes_by within {name!r} is the period's own column")
        if name not in ds.column_names:
            raise RegistryError(f"{path.name}: supersedes_by within {name!r} is not one of its columns")


def _delivery(path: Path, value) -> Delivery | None:
    if value is None:
        return None
    shape = "{every: day|week|month|term|year, due_working_days: N} (and year: financial|calendar for every: year)"
    if not isinstance(value, dict) or not {"every", "due_working_days"} <= set(value) <= {
        "every",
        "due_working_days",
        "year",
    }:
        raise RegistryError(f"{path.name}: delivery must be a mapping {shape}")
    if value["every"] not in DELIVERY_PERIODS:
        raise RegistryError(f"{path.name}: delivery every must be one of {', '.join(DELIVERY_PERIODS)}")
    days = value["due_working_days"]
    if type(days) is not int or not 1 <= days <= 260:
        raise RegistryError(f"{path.name}: delivery due_working_days must be a whole number of working days, 1 to 260")
    if "year" in value and value["every"] != "year":
        raise RegistryError(f"{path.name}: delivery year (financial or calendar) is only for every: year")
    year = value.get("year", "financial")
    if year not in YEAR_KINDS:
        raise RegistryError(f"{path.name}: delivery year must be one of {', '.join(YEAR_KINDS)}")
    return Delivery(every=value["every"], due_working_days=days, year=year)


def _alert_recipients(path: Path, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RegistryError(f"{path.name}: alert_recipients must be a list of Airflow Variable names")
    for name in value:
        if "@" in name:
            raise RegistryError(
                f"{path.name}: alert_recipients names Airflow Variables that hold the addresses, never an address"
                f" ({name!r})"
            )
        if not VARIABLE_NAME.match(name):
            raise RegistryError(
                f"{path.name}: alert_recipients {name!r} is not an Airflow Variable name (letters, digits, . - _)"
            )
    if len(set(value)) != len(value):
        raise RegistryError(f"{path.name}: alert_recipients lists a Variable twice")
    return tuple(value)


def _check_delivery(path: Path, ds: Dataset) -> None:
    """A day or week calendar needs records dated to the day: a month column cannot say which day or week."""
    column = ds.column(ds.record_date_column)
    fmt = column.date_format or ""
    if column.type not in ("month", "date", "datetime") or not fmt.startswith("%Y-%m"):
        raise RegistryError(
            f"{path.name}: record_date_column {column.name!r} must be a month, date or datetime written YYYY-MM..."
            " (timeliness reads the period of each record from it)"
        )
    if ds.delivery.every in ("day", "week") and not fmt.startswith("%Y-%m-%d"):
        raise RegistryError(
            f"{path.name}: delivery every {ds.delivery.every} needs a record_date_column dated to the day;"
            f" {column.name!r} is a {column.type}"
        )


def _parse(path: Path) -> Dataset:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path.name}: not valid YAML: {exc}") from exc
    try:
        columns = tuple(
            Column(**{**c, "allowed": tuple(str(v) for v in c["allowed"]) if c.get("allowed") else None})
            for c in doc.pop("columns")
        )
        ds = Dataset(
            **{
                **doc,
                "key_columns": tuple(doc["key_columns"]),
                "shared_with": tuple(doc.get("shared_with") or ()),
                "publication": _publication(path, doc["publication"]),
                "upload_complete": _upload_complete(path, doc.get("upload_complete")),
                "supersedes_by": _supersession(path, doc.get("supersedes_by")),
                "delivery": _delivery(path, doc.get("delivery")),
                "alert_recipients": _alert_recipients(path, doc.get("alert_recipients")),
                "columns": columns,
            }
        )
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{path.name}: {exc}") from exc
    if path.stem != ds.name:
        raise RegistryError(f"{path.name}: file must be named {ds.name}.yml")
    names = ds.column_names
    for c in columns:
        if c.type not in COLUMN_TYPES:
            raise RegistryError(f"{path.name}: column {c.name}: unknown type {c.type!r}")
        if c.severity not in SEVERITIES:
            raise RegistryError(f"{path.name}: column {c.name}: severity must be one of {', '.join(SEVERITIES)}")
        if c.completeness is not None and not 0 < c.completeness <= 1:
            raise RegistryError(f"{path.name}: column {c.name}: completeness is a share between 0 and 1")
        if c.pseudonymise and c.pseudonymise not in PSEUDONYMISE_TYPES:
            raise RegistryError(f"{path.name}: column {c.name}: cannot pseudonymise {c.pseudonymise!r}")
        if not isinstance(c.free_text, bool) or (c.free_text and c.type != "string"):
            raise RegistryError(f"{path.name}: column {c.name}: free_text is true or false, on a string column")
    if type(ds.quarantine_days) is not int or ds.quarantine_days < 1:
        raise RegistryError(f"{path.name}: quarantine_days must be a whole number of days, at least 1")
    if ds.name_screen not in SEVERITIES:
        raise RegistryError(f"{path.name}: name_screen must be one of {', '.join(SEVERITIES)}")
    if ds.cadence not in CADENCES:
        raise RegistryError(f"{path.name}: cadence must be one of {', '.join(CADENCES)}")
    pub = ds.publication
    if pub.clause and ds.agreement_reference not in pub.clause:
        raise RegistryError(
            f"{path.name}: publication clause must name its sharing agreement {ds.agreement_reference!r}"
        )
    for wanted in (*ds.key_columns, ds.record_date_column, *filter(None, [ds.event_date_column])):
        if wanted not in names:
            raise RegistryError(f"{path.name}: {wanted!r} is not one of its columns")
    _check_supersession(path, ds)
    _check_delivery(path, ds)
    return ds


@functools.cache
def load_registry(directory: Path = REGISTRY_DIR) -> tuple[Dataset, ...]:
    """Every dataset, sorted by name. Cheap: a few small YAML files, safe to call at DAG parse time."""
    datasets = tuple(sorted((_parse(p) for p in Path(directory).glob("*.yml")), key=lambda d: d.name))
    # Row-level security works by agency (person-level tables carry an agency column, not a dataset), so all
    # datasets of one agency must be shared with the same partners.
    sharing: dict[str, set[str]] = {}
    for ds in datasets:
        if sharing.setdefault(ds.agency, set(ds.shared_with)) != set(ds.shared_with):
            raise RegistryError(f"{ds.name}: shared_with differs from another {ds.agency} dataset's")
    return datasets


def get_dataset(name: str) -> Dataset:
    for ds in load_registry():
        if ds.name == name:
            return ds
    raise KeyError(f"no dataset {name!r} in the registry")
