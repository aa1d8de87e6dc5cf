"""Write the files the registry drives: GX suites, dbt sources, and starter staging models.

``partnership registry sync`` runs this. Suites and sources are regenerated every time (tests fail if the
committed copies drift from the registry); a staging model and its yml are written only when missing, since
analysts refine them by hand afterwards.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from partnership import settings
from partnership.registry import Dataset, load_registry
from partnership.validation import build_suite, suite_path

FRESHNESS_DAYS = {"daily": (2, 4), "weekly": (8, 15), "monthly": (35, 62), "termly": (130, 200), "annual": (400, 800)}


def staging_dir(agency: str) -> Path:
    return settings.DBT_PROJECT_DIR / "models" / "staging" / agency


def _source_column(c) -> dict:
    meta = {"type": c.type}
    if c.header:
        meta["file_header"] = c.header
    if c.identifier:
        meta.update(sensitive=True, identifier=c.identifier)
    if c.pseudonymise:  # loaded as the gate's HMAC-SHA256 pseudonym of this identifier type, never raw
        meta["pseudonymised"] = f"hmac-sha256:{c.pseudonymise}"
    return {
        "name": c.name,
        "data_type": "text",
        **({"description": c.description} if c.description else {}),
        "meta": meta,
    }


def sources_yml(agency: str, datasets: list[Dataset]) -> str:
    tables = []
    for ds in datasets:
        warn, error = FRESHNESS_DAYS.get(ds.cadence, (35, 62))
        meta = {
            "lawful_basis": ds.lawful_basis,
            "sharing_agreement": ds.sharing_agreement,
            "retention_months": ds.retention_months,
            # What may be done with aggregates derived from it, and the agreement clause that allows it.
            "publication": {"aggregates": ds.publication.aggregates, "clause": ds.publication.clause},
            "cadence": ds.cadence,
            "origin": ds.origin,
        }
        if ds.linkage:
            meta["linkage"] = ds.linkage
        if ds.supersedes_by:  # read by the latest_issue macro (dbt/macros), which staging selects through
            meta["supersedes_by"] = {"period": ds.supersedes_by.period, "column": ds.supersedes_by.column}
            if ds.supersedes_by.within:  # a file supersedes only its own part of a month (police.uk: its force)
                meta["supersedes_by"]["within"] = list(ds.supersedes_by.within)
        tables.append(
            {
                "name": ds.dataset,
                "identifier": ds.name,
                "description": ds.description,
                "loaded_at_field": "_loaded_at",
                "freshness": {
                    "warn_after": {"count": warn, "period": "day"},
                    "error_after": {"count": error, "period": "day"},
                },
                "meta": meta,
                "columns": [_source_column(c) for c in ds.columns],
            }
        )
    doc = {
        "version": 2,
        "sources": [
            {
                "name": agency,
                "schema": "raw",
                "loader": "airflow",
                "description": f"Raw {agency.replace('_', ' ')} extracts, loaded unchanged by the ingest DAGs.",
                "tables": tables,
            }
        ],
    }
    return f"# {GENERATED}\n" + yaml.safe_dump(doc, sort_keys=False, width=110)


def staging_sql(ds: Dataset) -> str:
    lines = []
    linked = {p.person for p in ds.linked_persons}
    for c in ds.columns:
        if c.name in linked:
            lines.append(f"current_{c.name} as {c.name}")
        elif c.type == "string":
            lines.append(c.name)
        elif c.type == "month":
            lines.append(f"cast({c.name} || '-01' as date) as {c.name}")
        else:
            lines.append(f"cast({c.name} as {c.sql_type}) as {c.name}")
    columns = ",\n        ".join(lines)
    if not ds.key_columns:  # no record key (police.uk files): the latest file of each month counts
        return f"""with

source as (

    -- A re-issued month supersedes the earlier file's rows of that month (registry: supersedes_by).
    {{{{ latest_issue('{ds.agency}', '{ds.dataset}') }}}}

),

renamed as (

    select
        {columns},
        _batch_id as batch_id,
        _source_row as source_row

    from source

)

select * from renamed
"""
    keys = ", ".join(f"current_{k}" if k in linked else k for k in ds.key_columns)
    if linked:
        columns_linked = ", ".join(f"'{c}'" for c in sorted(linked))
        source = f"""    -- Each linked person as their current person id (Record linkage: a later merge counts).
    {{{{ with_current_person_ids('{ds.agency}', '{ds.dataset}', [{columns_linked}]) }}}}"""
    else:
        source = f"    select * from {{{{ source('{ds.agency}', '{ds.dataset}') }}}}"
    return f"""with

source as (

{source}

),

latest as (

    -- A record sent again in a later batch (a corrected extract) replaces the earlier copy.
    select
        *,
        row_number() over (partition by {keys} order by _batch_id desc, _source_row desc) as _version_rank
    from source

),

renamed as (

    select
        {columns},
        _batch_id as batch_id,
        _source_row as source_row

    from latest
    where _version_rank = 1

)

select * from renamed
"""


def accepted_values(column) -> list[str]:
    """The values a staging column's accepted_values test lists: the registry's ``allowed``, as dbt needs them
    (it pastes values into SQL literals unescaped: an apostrophe is doubled, "Children''s"). The starter yml
    is written with them, and tests/test_registry.py fails when a refined yml's list drifts from the registry."""
    return [v.replace("'", "''") for v in column.allowed]


def not_null_columns(columns: list[str]) -> dict:
    """The model's test that none of these columns holds a null (dbt/macros/test_not_null_columns.sql): one dbt
    node for them all, where a `not_null` per column was a node each."""
    return {"not_null_columns": {"arguments": {"columns": columns}}}


def accepted_values_columns(accepted: dict[str, list[str]]) -> dict:
    """The model's test that each column holds only its accepted values (dbt/macros/test_accepted_values_columns.sql):
    one dbt node for them all, where an `accepted_values` per column was a node each."""
    return {"accepted_values_columns": {"arguments": {"columns": accepted}}}


def accepted_values_by_column(model: dict) -> dict[str, list]:
    """Each column's accepted values in a model's yml: its model-level accepted_values_columns test, and any
    `accepted_values` left on a column (one whose values are a Jinja expression, say)."""
    found = {}
    for test in model.get("data_tests") or []:
        if isinstance(test, dict) and "accepted_values_columns" in test:
            found.update(test["accepted_values_columns"].get("arguments", test["accepted_values_columns"])["columns"])
    for column in model.get("columns") or []:
        for test in column.get("data_tests") or []:
            if isinstance(test, dict) and "accepted_values" in test:
                found[column["name"]] = test["accepted_values"].get("arguments", test["accepted_values"])["values"]
    return found


def staging_yml(ds: Dataset) -> str:
    columns, never_null, accepted = [], [], {}
    for c in ds.columns:
        tests = []
        if c.name in ds.key_columns and len(ds.key_columns) == 1:
            tests.append("unique")
        if c.name in ds.key_columns or c.required:
            never_null.append(c.name)
        if c.allowed:
            accepted[c.name] = accepted_values(c)
        entry = {"name": c.name}
        if c.identifier:
            entry["meta"] = {"sensitive": True}
        if tests:
            entry["data_tests"] = tests
        columns.append(entry)
    model = {"name": f"stg_{ds.name}", "description": f"{ds.description} Typed, one row per record."}
    model_tests = []
    if len(ds.key_columns) > 1:  # a compound key: unique as a combination, not column by column
        model_tests.append(
            {"unique_combination_of_columns": {"arguments": {"combination_of_columns": list(ds.key_columns)}}}
        )
    if never_null:
        model_tests.append(not_null_columns(never_null))
    if accepted:
        model_tests.append(accepted_values_columns(accepted))
    if model_tests:
        model["data_tests"] = model_tests
    model["columns"] = columns
    return yaml.safe_dump({"version": 2, "models": [model]}, sort_keys=False, width=110)


PERSON_CONTACTS_MODEL = "int_person_contacts_unioned"
GENERATED = "Generated from plugins/partnership/registry/ by `partnership registry sync`. Do not edit."


def person_contacts_dir() -> Path:
    return settings.DBT_PROJECT_DIR / "models" / "intermediate"


def _contact_select(ds: Dataset, c) -> str:
    date = f"cast({c.date} as date)" if ds.column(c.date).type == "datetime" else c.date
    age = c.age
    if c.age_taken_on:  # the age was taken earlier (at the offence): add the whole years since
        age = f"{c.age} + {{{{ years_between('{c.age_taken_on}', '{c.date}') }}}}"
    conditions = [] if c.keep_unlinked else [f"{c.person} is not null"]
    for column, values in c.when:
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        conditions.append(f"{column} in ({quoted})")
    where = ("\n    where " + "\n        and ".join(conditions)) if conditions else ""
    # One line, with no Jinja delimiters: dbt renders the whole file, comments included.
    comment = f"    -- {' '.join(re.sub(r'[{}%#]', '', c.description).split())}\n" if c.description else ""
    return f"""{c.type}_contacts as (
{comment}    select
        {c.person} as person_key,
        '{ds.agency}' as agency,
        '{c.type}' as contact_type,
        {date} as contact_date,
        {age} as age_at_contact,
        {c.residence or "cast(null as text)"} as residence_lsoa_code
    from {{{{ ref('stg_{ds.name}') }}}}{where}
)"""


def person_contacts_sql() -> str:
    contacts = [(ds, c) for ds in load_registry() for c in ds.person_contacts]
    ctes = ",\n\n".join(_contact_select(ds, c) for ds, c in contacts)
    unions = "\nunion all ".join(f"select * from {c.type}_contacts" for _, c in contacts)
    return f"""-- {GENERATED}
-- Every contact an agency had with a pseudonymised person: one row per source record, from each dataset's
-- person_contacts in the registry. The one person-contacts model the people marts and cohorts read
-- (int_people_linked, int_cohort_contacts). Person-level: a table under row security by agency.
--
-- A contact is dated when the agency dealt with the person, with the person's age then.

with

{ctes}

{unions}
"""


def person_contacts_yml() -> str:
    datasets = [ds for ds in load_registry() if ds.person_contacts]
    unlinked = [c.type for ds in datasets for c in ds.person_contacts if c.keep_unlinked]
    not_null = {"not_null": {"config": {"where": f"contact_type not in ({', '.join(repr(t) for t in unlinked)})"}}}
    kinds = "; ".join(
        f"{c.type} ({(c.description or ds.name).rstrip('.')})" for ds in datasets for c in ds.person_contacts
    )
    model = {
        "name": PERSON_CONTACTS_MODEL,
        "description": (
            "Every contact an agency had with a pseudonymised person: the one person-contacts model, unioned from"
            " each person-level dataset's person_contacts in the registry. One row per source record, dated when"
            " the agency dealt with the person, with their age then. Contact types: " + kinds + "."
        ),
        "config": {
            "materialized": "table",  # a table, not a view: row-level security applies to tables only
            "post_hook": ["{{ restrict_rows_to_partners('agency') }}"],
        },
        "data_tests": [
            not_null_columns(["agency", "contact_type", "contact_date"] + ([] if unlinked else ["person_key"])),
            accepted_values_columns(
                {
                    "agency": sorted({ds.agency for ds in datasets}),
                    "contact_type": [c.type for ds in datasets for c in ds.person_contacts],
                }
            ),
        ],
        "columns": [
            {"name": "person_key", "meta": {"sensitive": True}, **({"data_tests": [not_null]} if unlinked else {})},
            {"name": "agency"},
            {"name": "contact_type"},
            {"name": "contact_date"},
            {"name": "age_at_contact"},
            {
                "name": "residence_lsoa_code",
                "description": "Home LSOA where the source gives one, or 'Outside Manchester'.",
                "meta": {"sensitive": True},
            },
        ],
    }
    doc = {"version": 2, "models": [model], "unit_tests": [person_contacts_unit_test(datasets)]}
    return f"# {GENERATED}\n" + yaml.safe_dump(doc, sort_keys=False, width=110)


# The unit test's days: an age taken on the earlier is 9 whole years younger than on the later.
CONTACT_DAY, AGE_TAKEN_DAY, YEARS_BETWEEN = "2024-05-10", "2014-06-25", 9


def person_contacts_unit_test(datasets: list[Dataset]) -> dict:
    """dbt's unit test of the generated model, derived from the declarations like the model (so a new dataset
    brings its own input): for each contact, a row that counts; a row its ``when`` leaves out; for a contact that
    keeps unlinked rows, one with no person key. The expected rows are what each declaration says of each row."""
    given, expect = [], []
    for ds in datasets:
        rows = []
        for c in ds.person_contacts:
            row = {c.person: f"{c.type}_person", c.age: 20}
            row[c.date] = f"{CONTACT_DAY} 13:45:00" if ds.column(c.date).type == "datetime" else CONTACT_DAY
            if c.age_taken_on:
                row[c.age_taken_on] = AGE_TAKEN_DAY
            if c.residence:
                row[c.residence] = "E01005000"
            row.update({column: values[0] for column, values in c.when})
            rows.append(row)
            if c.when:
                column, values = c.when[0]
                others = [v for v in ds.column(column).allowed or () if v not in values]
                rows.append({**row, c.person: f"{c.type}_left_out", column: others[0] if others else "none"})
            if c.keep_unlinked:
                rows.append({**row, c.person: None})
        given.append({"input": f"ref('stg_{ds.name}')", "rows": rows})
        expect += [_expected_contact(ds, c, row) for row in rows for c in ds.person_contacts if _counts(c, row)]
    return {
        "name": "person_contacts_as_the_registry_declares",
        "description": (
            "Generated with the model: each registry declaration's contact is dated by its date column, aged by"
            " its age column (plus the whole years since age_taken_on), filtered by when, and kept without a"
            " person key only when keep_unlinked."
        ),
        "model": PERSON_CONTACTS_MODEL,
        "given": given,
        "expect": {"rows": expect},
    }


def _counts(c, row: dict) -> bool:
    linked = c.keep_unlinked or row.get(c.person) is not None
    return linked and all(row.get(column) in values for column, values in c.when)


def _expected_contact(ds: Dataset, c, row: dict) -> dict:
    age = row.get(c.age)
    if age is not None and c.age_taken_on and row.get(c.age_taken_on) and row.get(c.date):
        age += YEARS_BETWEEN
    day = row.get(c.date)
    return {
        "person_key": row.get(c.person),
        "agency": ds.agency,
        "contact_type": c.type,
        "contact_date": day[:10] if day else None,
        "age_at_contact": age,
        "residence_lsoa_code": row.get(c.residence) if c.residence else None,
    }


def expected_files() -> dict[Path, str]:
    """The files that must always equal what the registry says."""
    files: dict[Path, str] = {}
    by_agency: dict[str, list[Dataset]] = {}
    for ds in load_registry():
        by_agency.setdefault(ds.agency, []).append(ds)
        files[suite_path(ds)] = json.dumps(build_suite(ds), indent=2) + "\n"
    for agency, datasets in by_agency.items():
        files[staging_dir(agency) / f"_{agency}__sources.yml"] = sources_yml(agency, datasets)
    files[person_contacts_dir() / f"{PERSON_CONTACTS_MODEL}.sql"] = person_contacts_sql()
    files[person_contacts_dir() / f"_{PERSON_CONTACTS_MODEL}.yml"] = person_contacts_yml()
    return files


def sync() -> list[Path]:
    """Write every derived file that is missing or out of date; return those written."""
    written = []
    for path, text in expected_files().items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    for ds in load_registry():
        for path, text in (
            (staging_dir(ds.agency) / f"stg_{ds.name}.sql", staging_sql(ds)),
            (staging_dir(ds.agency) / f"stg_{ds.name}.yml", staging_yml(ds)),
        ):
            if not path.exists():
                path.write_text(text)
                written.append(path)
    return written


def out_of_date() -> list[Path]:
    return [p for p, text in expected_files().items() if not p.exists() or p.read_text() != text]
