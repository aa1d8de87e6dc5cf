"""The blocks of a registry entry about people and generation: ``person_contacts`` (how a person-level dataset's
records join dbt's person-contacts model), ``linked_persons`` (the people the gate links from the details an
agency sends) and ``generation`` (how the demo generator makes its extracts).
:mod:`partnership.registry` calls these to read and check them; the shapes are in
:mod:`partnership.registry_model`."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from partnership.registry_model import (
    GENERATION_RULES,
    LINKAGE_FIELDS,
    PERSON_ATTRIBUTES,
    PERSON_ID_PATTERN,
    PLACE_ATTRIBUTES,
    ColumnRule,
    Dataset,
    GenerationProfile,
    LinkedPerson,
    PersonContact,
    RegistryError,
)

CONTACT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CONTACT_FIELDS = {"type", "person", "date", "age", "age_taken_on", "residence", "when", "keep_unlinked", "description"}


def person_contacts(path: Path, value) -> tuple[PersonContact, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise RegistryError(f"{path.name}: person_contacts must be a list of mappings {{type, person, date, age, ...}}")
    contacts = []
    for c in value:
        missing, unknown = {"type", "person", "date", "age"} - set(c), set(c) - _CONTACT_FIELDS
        if missing or unknown:
            raise RegistryError(
                f"{path.name}: person_contacts {c.get('type', '?')}: "
                + (f"needs {', '.join(sorted(missing))}" if missing else f"unknown {', '.join(sorted(unknown))}")
            )
        when = c.get("when") or {}
        if not isinstance(when, dict) or not all(isinstance(v, list) and v for v in when.values()):
            raise RegistryError(f"{path.name}: person_contacts {c['type']}: when must map columns to lists of values")
        if any(not isinstance(v, str | int) or isinstance(v, bool) for values in when.values() for v in values):
            raise RegistryError(
                f"{path.name}: person_contacts {c['type']}: when values are text as the file has it (quote Y, N, yes)"
            )
        if not isinstance(c.get("keep_unlinked", False), bool):
            raise RegistryError(f"{path.name}: person_contacts {c['type']}: keep_unlinked is true or false")
        contacts.append(
            PersonContact(
                **{
                    **c,
                    "when": tuple((column, tuple(str(v) for v in values)) for column, values in when.items()),
                    "description": (c.get("description") or "").strip() or None,
                }
            )
        )
    return tuple(contacts)


def check_person_contacts(path: Path, ds: Dataset) -> None:
    """Each contact names columns the dataset has, of the right kind, and values its columns allow."""
    for c in ds.person_contacts:
        where = f"{path.name}: person_contacts {c.type}"
        if not CONTACT_TYPE.match(c.type):
            raise RegistryError(f"{where}: type must be lower-case letters, digits and _")
        for role, name in (("person", c.person), ("date", c.date), ("age", c.age)) + tuple(
            (role, name) for role, name in (("age_taken_on", c.age_taken_on), ("residence", c.residence)) if name
        ):
            if name not in ds.column_names:
                raise RegistryError(f"{where}: {role} {name!r} is not one of its columns")
        if ds.column(c.person).identifier != "person":
            raise RegistryError(f"{where}: person {c.person!r} must be a person key column (identifier: person)")
        for role, name in (("date", c.date), ("age_taken_on", c.age_taken_on)):
            if name and ds.column(name).type not in ("date", "datetime", "month"):
                raise RegistryError(f"{where}: {role} {name!r} must be a date, datetime or month column")
        if ds.column(c.age).type != "integer":
            raise RegistryError(f"{where}: age {c.age!r} must be an integer column")
        for column, values in c.when:
            if column not in ds.column_names:
                raise RegistryError(f"{where}: when {column!r} is not one of its columns")
            if ds.column(column).type != "string":
                raise RegistryError(f"{where}: when {column!r} must be a text column (a code or flag)")
            allowed = ds.column(column).allowed
            if allowed and set(values) - set(allowed):
                raise RegistryError(f"{where}: when {column}: {sorted(set(values) - set(allowed))} not allowed")


def linked_persons(path: Path, value) -> tuple[LinkedPerson, ...]:
    if value is None:
        return ()
    shape = "a list of mappings {person: <person key column>, fields: {<file column>: <linkage field>}}"
    if not isinstance(value, list) or not all(isinstance(p, dict) and set(p) == {"person", "fields"} for p in value):
        raise RegistryError(f"{path.name}: linked_persons must be {shape}")
    out = []
    for p in value:
        fields = p["fields"]
        if not isinstance(fields, dict) or not fields:
            raise RegistryError(f"{path.name}: linked_persons {p['person']}: fields must be {shape}")
        unknown = sorted(set(fields.values()) - set(LINKAGE_FIELDS))
        if unknown:
            raise RegistryError(
                f"{path.name}: linked_persons {p['person']}: {unknown} not linkage fields ({', '.join(LINKAGE_FIELDS)})"
            )
        if len(set(fields.values())) != len(fields):
            raise RegistryError(f"{path.name}: linked_persons {p['person']}: a linkage field is given twice")
        out.append(LinkedPerson(str(p["person"]), tuple((str(k), str(v)) for k, v in fields.items())))
    return tuple(out)


def check_linked_persons(path: Path, ds: Dataset) -> Dataset:
    """Each linked person is a person key column of the dataset, its detail columns are new names; returns the
    dataset with those person columns checked against the person id's pattern (the gate writes them)."""
    seen: set[str] = set()
    for p in ds.linked_persons:
        where = f"{path.name}: linked_persons {p.person}"
        if p.person not in ds.column_names or ds.column(p.person).identifier != "person":
            raise RegistryError(f"{where}: must be one of its person key columns (identifier: person)")
        if ds.column(p.person).pseudonymise:
            raise RegistryError(f"{where}: a column is pseudonymised or linked, not both")
        for column, field in p.fields:
            if column in ds.column_names:
                # A column the dataset loads anyway may be read for linkage too: only sex, not an identifier.
                if field != "sex":
                    raise RegistryError(f"{where}: {column!r} is loaded: only sex may be read from a loaded column")
                continue
            if column in seen or not re.match(r"^[a-z][a-z0-9_]{0,62}$", column):
                raise RegistryError(f"{where}: {column!r} must be lower-case letters, digits and _, used once")
            seen.add(column)
    headers = ds.file_headers
    if ds.linked_persons and len(set(headers)) != len(headers):
        # A loaded column whose header were a detail column's would be filled from it (and pass the screen).
        raise RegistryError(f"{path.name}: every column of the file must have its own header (file_headers)")
    if ds.linked_persons and any(c.pseudonymise for c in ds.columns):
        raise RegistryError(
            f"{path.name}: identifiers are sent for linkage (linked_persons) or pseudonymised, not both"
        )
    linked = {p.person for p in ds.linked_persons}
    columns = tuple(replace(c, pattern=PERSON_ID_PATTERN) if c.name in linked else c for c in ds.columns)
    return replace(ds, columns=columns)


def check_contact_types_unique(datasets) -> None:
    seen: dict[str, str] = {}
    for ds in datasets:
        for c in ds.person_contacts:
            if c.type in seen:
                raise RegistryError(f"{ds.name}: person_contacts type {c.type!r} is also {seen[c.type]}'s")
            seen[c.type] = ds.name


def generation(path: Path, value) -> GenerationProfile | None:
    if value is None:
        return None
    where = f"{path.name}: generation"
    if not isinstance(value, dict) or not {"rows_per_month"} <= set(value) <= {"rows_per_month", "ages", "columns"}:
        raise RegistryError(f"{where} must be a mapping {{rows_per_month: N, ages: [low, high], columns: {{...}}}}")
    rows = value["rows_per_month"]
    if type(rows) is not int or rows < 1:
        raise RegistryError(f"{where}: rows_per_month is a whole number of rows at scale 1, at least 1")
    ages = value.get("ages", [10, 90])
    if not (isinstance(ages, list) and len(ages) == 2 and all(type(a) is int for a in ages)) or not (
        0 <= ages[0] <= ages[1] <= 110
    ):
        raise RegistryError(f"{where}: ages is [low, high], whole years")
    columns = value.get("columns")
    if columns is not None:
        if not isinstance(columns, dict):
            raise RegistryError(f"{where}: columns maps column names to rules")
        columns = tuple((name, _rule(f"{where} {name}", rule)) for name, rule in columns.items())
    return GenerationProfile(rows_per_month=rows, ages=(ages[0], ages[1]), columns=columns)


def _rule(where: str, rule) -> ColumnRule:
    if not isinstance(rule, dict):
        raise RegistryError(f"{where}: a rule is a mapping, e.g. {{weights: {{A: 3, B: 1}}}}")
    kinds = [k for k in rule if k in GENERATION_RULES]
    if len(kinds) != 1 or set(rule) - {*GENERATION_RULES, "blank"}:
        raise RegistryError(f"{where}: give one of {', '.join(GENERATION_RULES)} (and optionally blank)")
    kind, arg = kinds[0], rule[kinds[0]]
    blank = rule.get("blank", 0.0)
    if not isinstance(blank, int | float) or not 0 <= blank < 1:
        raise RegistryError(f"{where}: blank is the share of rows left empty, 0 to below 1")
    if kind == "weights":
        if not isinstance(arg, dict) or not arg or not all(isinstance(w, int | float) and w > 0 for w in arg.values()):
            raise RegistryError(f"{where}: weights map values to positive weights")
        arg = tuple((str(v), float(w)) for v, w in arg.items())
    elif kind == "range":
        if not (isinstance(arg, list) and len(arg) == 2 and all(type(a) is int for a in arg) and arg[0] <= arg[1]):
            raise RegistryError(f"{where}: range is [low, high], whole numbers")
        arg = (arg[0], arg[1])
    elif kind == "place" and arg not in PLACE_ATTRIBUTES:
        raise RegistryError(f"{where}: place is one of {', '.join(PLACE_ATTRIBUTES)}")
    elif kind == "person" and arg not in PERSON_ATTRIBUTES:
        raise RegistryError(f"{where}: person is one of {', '.join(PERSON_ATTRIBUTES)}")
    elif kind in ("format", "value"):
        arg = "" if arg is None else str(arg)
    return ColumnRule(kind=kind, arg=arg, blank=float(blank))


def check_generation(path: Path, ds: Dataset) -> None:
    """A profile that draws columns can draw every column, and what it draws passes the column's own checks."""
    profile = ds.generation
    if profile is None or not profile.drawn_from_profile:
        return
    where = f"{path.name}: generation"
    if ds.cadence != "monthly":
        raise RegistryError(f"{where}: columns are drawn for monthly datasets; a {ds.cadence} one needs a demo writer")
    for name, rule in profile.columns:
        if name not in ds.column_names:
            raise RegistryError(f"{where}: {name!r} is not one of its columns")
        column = ds.column(name)
        if rule.blank and column.required:
            raise RegistryError(f"{where} {name}: a required column cannot be left blank")
        if rule.kind == "weights" and column.allowed and {v for v, _ in rule.arg} - set(column.allowed):
            raise RegistryError(f"{where} {name}: weights name values the column does not allow")
        if rule.kind == "format":
            try:
                sample = rule.arg.format(month=date(2024, 4, 1), seq=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise RegistryError(f"{where} {name}: format uses only {{month}} and {{seq}}: {exc}") from exc
            if column.value_pattern and not re.search(column.value_pattern, sample):
                raise RegistryError(f"{where} {name}: format writes {sample!r}, which the column's pattern refuses")
            _no_identifier(where, name, sample)
        if rule.kind in ("value", "weights"):
            for value in [rule.arg] if rule.kind == "value" else [v for v, _ in rule.arg]:
                if value and column.allowed and value not in column.allowed:
                    raise RegistryError(f"{where} {name}: {value!r} is not among the column's allowed values")
                if value and column.value_pattern and not re.search(column.value_pattern, value):
                    raise RegistryError(f"{where} {name}: {value!r} does not match the column's pattern")
                _no_identifier(where, name, value)
        if rule.kind == "range":
            low, high = rule.arg
            if (column.min is not None and low < float(column.min)) or (
                column.max is not None and high > float(column.max)
            ):
                raise RegistryError(f"{where} {name}: range {list(rule.arg)} goes outside the column's min and max")
        if rule.kind == "person" and rule.arg == "age":
            low, high = profile.ages
            if (column.min is not None and low < float(column.min)) or (
                column.max is not None and high > float(column.max)
            ):
                raise RegistryError(f"{where}: ages {list(profile.ages)} go outside {name}'s min and max")
    for column in ds.columns:
        if profile.rule(column.name) is None and not _drawn_by_default(column):
            raise RegistryError(
                f"{where}: say how {column.name!r} is drawn (one of {', '.join(GENERATION_RULES)}):"
                " it has no allowed values, is not a date or a person key, and has no min and max"
            )


def _no_identifier(where: str, column: str, text: str) -> None:
    """Demo data is made of codes: a constant that looks like an identifier (the gate's own screen) is refused, so
    the generator never writes one into a landing file or a test fixture."""
    from partnership.screening import content_rules

    found = content_rules(text, names=True)
    if found:
        raise RegistryError(f"{where} {column}: a value looks like a direct identifier ({', '.join(found)})")


def _drawn_by_default(column) -> bool:
    return bool(
        column.allowed
        or column.type in ("date", "datetime", "month")
        or column.identifier == "person"
        or (column.type in ("integer", "decimal") and column.min is not None and column.max is not None)
        or not column.required  # left empty
    )
