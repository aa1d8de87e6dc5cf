"""The source registry: one YAML file per dataset in ``registry/``.

It is the single description of each dataset. The ingest DAGs, the Great Expectations suites, the raw
tables, the dbt sources and the staging models are all derived from it, so adding a dataset means adding
one YAML file (then ``partnership registry sync`` writes the derived files).

What an entry holds (the dataclasses, and the values each field may take) is in
:mod:`partnership.registry_model`; this module reads the YAML, checks it, and re-exports those names.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from partnership import registry_profiles, settings
from partnership.registry_model import (
    CADENCES,
    COLUMN_TYPES,
    DATE_FORMATS,
    DEFAULT_DELIVERY,
    DELIVERY_PERIODS,
    LINKAGE_FIELDS,
    PERSON_ID_PATTERN,
    PERSON_KEY_PATTERN,
    PSEUDONYMISE_TYPES,
    PUBLICATION_LEVELS,
    SEVERITIES,
    SQL_TYPES,
    SUPERSEDE_PERIODS,
    TYPE_PATTERNS,
    YEAR_KINDS,
    Column,
    Dataset,
    Delivery,
    LinkedPerson,
    Publication,
    RegistryError,
    Supersession,
    UploadComplete,
    strftime_pattern,
)

# The model's names too: `from partnership.registry import Dataset` is how the project imports them.
__all__ = [
    "CADENCES",
    "COLUMN_TYPES",
    "Column",
    "DATE_FORMATS",
    "DEFAULT_DELIVERY",
    "DELIVERY_PERIODS",
    "Dataset",
    "Delivery",
    "LINKAGE_FIELDS",
    "LinkedPerson",
    "PERSON_ID_PATTERN",
    "PERSON_KEY_PATTERN",
    "PSEUDONYMISE_TYPES",
    "PUBLICATION_LEVELS",
    "Publication",
    "REGISTRY_DIR",
    "RegistryError",
    "SEVERITIES",
    "SQL_TYPES",
    "SUPERSEDE_PERIODS",
    "Supersession",
    "TYPE_PATTERNS",
    "UploadComplete",
    "VARIABLE_NAME",
    "YEAR_KINDS",
    "get_dataset",
    "load_registry",
    "strftime_pattern",
]

REGISTRY_DIR = settings.REGISTRY_DIR


# Airflow Variable names: letters, digits, dots, dashes and underscores (an address has an @, and is refused).
SQL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


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


JINJA_DELIMITERS = ("{{", "{%", "{#")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# libyaml's parser when PyYAML has it (its wheels do): the registry is read in every task's process and each parse
# of a DAG file, and the pure-Python parser took 0.12 s of a core to read it, libyaml 0.014 s. Same documents.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(path: Path) -> Dataset:
    try:
        doc = yaml.load(path.read_text(), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path.name}: not valid YAML: {exc}") from exc
    # Entries become dbt sources, staging models and the person-contacts model, which dbt renders as Jinja
    # (descriptions, comments and string literals included): a template there would run at `dbt parse`.
    for text in _strings(doc):
        if any(d in text for d in JINJA_DELIMITERS):
            raise RegistryError(f"{path.name}: {text[:60]!r}: the registry holds no Jinja ({{{{, {{% or {{#)")
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
                "person_contacts": registry_profiles.person_contacts(path, doc.get("person_contacts")),
                "linked_persons": registry_profiles.linked_persons(path, doc.get("linked_persons")),
                "generation": registry_profiles.generation(path, doc.get("generation")),
                "columns": columns,
            }
        )
    except (KeyError, TypeError) as exc:
        raise RegistryError(f"{path.name}: {exc}") from exc
    # Agency, dataset and column names become table, column and role names and SQL literals in generated code.
    for what, name in (("agency", ds.agency), ("dataset", ds.dataset), *(("column", c.name) for c in columns)):
        if not SQL_NAME.match(str(name)) or "__" in str(name):
            raise RegistryError(f"{path.name}: {what} {name!r} must be lower-case letters, digits and single _")
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
    registry_profiles.check_person_contacts(path, ds)
    ds = registry_profiles.check_linked_persons(path, ds)
    registry_profiles.check_generation(path, ds)
    return ds


def load_registry(directory: Path | None = None) -> tuple[Dataset, ...]:
    """Every dataset, sorted by name. Cheap: a few small YAML files, safe to call at DAG parse time."""
    return _load(Path(directory or REGISTRY_DIR).resolve())


@functools.cache
def _load(directory: Path) -> tuple[Dataset, ...]:
    datasets = tuple(sorted((_parse(p) for p in Path(directory).glob("*.yml")), key=lambda d: d.name))
    # Row-level security works by agency (person-level tables carry an agency column, not a dataset), so all
    # datasets of one agency must be shared with the same partners.
    sharing: dict[str, set[str]] = {}
    for ds in datasets:
        if sharing.setdefault(ds.agency, set(ds.shared_with)) != set(ds.shared_with):
            raise RegistryError(f"{ds.name}: shared_with differs from another {ds.agency} dataset's")
    registry_profiles.check_contact_types_unique(datasets)
    return datasets


def get_dataset(name: str) -> Dataset:
    for ds in load_registry():
        if ds.name == name:
            return ds
    raise KeyError(f"no dataset {name!r} in the registry")
