"""What a registry entry says about a dataset: :class:`Dataset`, its columns (:class:`Column`), and the rules
it carries (delivery calendar, supersession, publication level, upload-complete rule), with the values each may
take. :mod:`partnership.registry` reads them from the YAML files and checks them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class RegistryError(ValueError):
    """A registry file is malformed."""


CADENCES = ("daily", "weekly", "monthly", "termly", "annual")
COLUMN_TYPES = ("string", "integer", "decimal", "date", "datetime", "month")
# Pseudonymised person keys are HMAC-SHA256 digests, written as 64 lower-case hex characters.
PERSON_KEY_PATTERN = "^[0-9a-f]{64}$"
# A person the gate linked (partnership.linkage) is given the partnership's person id: PW and a number.
PERSON_ID_PATTERN = "^PW[0-9]{1,15}$"
# The fields an agency may send for the gate to link its people by (partnership.linkage), as it holds them.
LINKAGE_FIELDS = ("nhs_number", "upn", "pnc_id", "forename", "surname", "date_of_birth", "sex", "postcode")
# How a text value must look to be of the column's type: integers by pattern; dates and datetimes by strftime
# format, which GX checks by parsing (so 2024-02-30 is refused, not just oddly shaped values).
TYPE_PATTERNS = {"integer": r"^-?[0-9]+$", "decimal": r"^-?[0-9]+(?:\.[0-9]+)?$"}
DATE_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%dT%H:%M:%S", "month": "%Y-%m"}
SEVERITIES = ("critical", "warning")
# Raw identifiers an agreement may let an agency send for linkage; each has its own pseudonymisation key.
PSEUDONYMISE_TYPES = ("nhs_number", "upn", "pnc_id")
# What may be done with aggregates derived from a dataset, from the most to the least restricted:
#   none        no aggregate leaves the analysts: no publish model may use it;
#   partnership disclosure-controlled aggregates may go to the partnership's own bodies (CSP Board, Core Group),
#               not to public papers;
#   public      aggregates may be published after the partnership's disclosure control.
# `partnership` and `public` need the clause of the dataset's agreement that grants them
# (partnership.publication checks the dbt manifest against these levels).
PUBLICATION_LEVELS = ("none", "partnership", "public")
# How staging casts each type (raw tables hold text: an exact copy of the accepted file).
SQL_TYPES = {
    "string": "text",
    "integer": "integer",
    "decimal": "numeric",
    "date": "date",
    "datetime": "timestamp",
    "month": "date",  # the first day of the month
}

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


# -- person contacts ---------------------------------------------------------------------------------------
# A person-level dataset declares how its records are contacts with a person; `registry sync` unions every
# dataset's declarations into dbt's one person-contacts model (int_person_contacts_unioned), which the people
# and cohort models read.


@dataclass(frozen=True)
class PersonContact:
    """One kind of contact a dataset's records are: ``type`` (unique across the registry, e.g. police_victim), the
    person's key column, the column dating the contact, the age column, and optionally: the column the age was
    taken on when it is not the contact's date (police give the age at the offence; the years since are added),
    the person's home LSOA column, which rows count (``when``: column -> values), and whether a row with no
    person key is kept (an unlinked A&E attendance still counts in match rates)."""

    type: str
    person: str
    date: str
    age: str
    age_taken_on: str | None = None
    residence: str | None = None
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    keep_unlinked: bool = False
    description: str | None = None


# -- linked persons ----------------------------------------------------------------------------------------
# A person-level dataset whose agency sends the people's details (names, date of birth, ...) for the gate to
# link, instead of a key of its own: the gate turns them into keyed tokens, links them to the other agencies'
# records and writes the partnership person id into the person column; the details are then dropped.


@dataclass(frozen=True)
class LinkedPerson:
    """The person in column ``person`` (a person key column, which the gate fills) as the agency's file gives
    them: ``fields`` maps each file column holding a detail to its linkage field (one of LINKAGE_FIELDS)."""

    person: str
    fields: tuple[tuple[str, str], ...]

    @property
    def file_columns(self) -> list[str]:
        return [column for column, _ in self.fields]

    def detail_columns(self, ds: Dataset) -> list[str]:
        """The columns of details sent for linkage only (a loaded column read for linkage, sex, is not one)."""
        return [column for column in self.file_columns if column not in ds.column_names]


# -- generation profile ------------------------------------------------------------------------------------
# How the demo generator (partnership.demo) makes a dataset's extracts: rows per month at scale 1 and, for a
# dataset without a writer of its own in partnership/demo, how each column is drawn.
#   format   a Python format string of the row's month (a date) and seq (1, 2, ...): "FRS{month:%Y%m}{seq:05d}"
#   place    an attribute of a Manchester place drawn by deprivation: lsoa_code, ward_code
#   person   an attribute of the row's person, from the population every agency shares: key, age, sex,
#            ethnicity, home_lsoa_code
#   weights  value -> relative weight
#   range    [low, high], whole numbers
#   value    a constant
# and `blank`: the share of rows left empty (optional columns). A column with no rule is drawn from its allowed
# values, as a day of the month (dates), or from min..max (numbers); a person key column is the row's person.
GENERATION_RULES = ("format", "place", "person", "weights", "range", "value")
PLACE_ATTRIBUTES = ("lsoa_code", "ward_code")
PERSON_ATTRIBUTES = ("key", "age", "sex", "ethnicity", "home_lsoa_code")


@dataclass(frozen=True)
class ColumnRule:
    kind: str  # one of GENERATION_RULES
    arg: object  # weights as ((value, weight), ...) and range as (low, high): hashable, as a Dataset is
    blank: float = 0.0


@dataclass(frozen=True)
class GenerationProfile:
    rows_per_month: int
    ages: tuple[int, int] = (10, 90)  # the ages of the people rows are about, when they are about people
    # (column, rule) for the columns with a rule; None: a module in partnership/demo writes the dataset.
    columns: tuple[tuple[str, ColumnRule], ...] | None = None

    @property
    def drawn_from_profile(self) -> bool:
        return self.columns is not None

    def rule(self, column: str) -> ColumnRule | None:
        return dict(self.columns or ()).get(column)


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
    # The contacts with people its records are (person-level datasets), for the person-contacts model.
    person_contacts: tuple[PersonContact, ...] = ()
    # The people the gate links from the details the agency sends (partnership.linkage).
    linked_persons: tuple[LinkedPerson, ...] = ()
    # How the demo generator makes its extracts.
    generation: GenerationProfile | None = None

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
        """The header row an agency's file must have, in order: a linked person's column is replaced by the
        columns of the person's details the agency sends for linkage."""
        linked = {p.person: p.detail_columns(self) for p in self.linked_persons}
        return [h for c in self.columns for h in linked.get(c.name, [c.file_header])]

    @property
    def linkage_columns(self) -> set[str]:
        """The file columns of details sent for linkage only: they never reach the warehouse."""
        return {column for p in self.linked_persons for column in p.detail_columns(self)}

    @property
    def sends_raw_identifiers(self) -> bool:
        """Its landed files hold identifiers the gate replaces (pseudonymised or linked): only the gate's copy
        is kept."""
        return bool(self.linked_persons) or any(c.pseudonymise for c in self.columns)

    def linked_person(self, column: str) -> LinkedPerson | None:
        return next((p for p in self.linked_persons if p.person == column), None)

    @property
    def person_key_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.identifier == "person"]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")
