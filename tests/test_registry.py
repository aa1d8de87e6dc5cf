"""The source registry is the one description of each dataset, and everything derived from it is current."""

import json

import pytest
import yaml

from partnership import registry, settings, sync
from partnership.registry import (
    DELIVERY_PERIODS,
    PERSON_ID_PATTERN,
    PERSON_KEY_PATTERN,
    PUBLICATION_LEVELS,
    REGISTRY_DIR,
    RegistryError,
    _parse,
    get_dataset,
    load_registry,
)

AGENCIES = {"police", "police_uk", "youth_justice", "education", "health", "council", "probation", "reference"}


def test_every_agency_has_a_dataset():
    assert {ds.agency for ds in load_registry()} >= AGENCIES


def test_public_and_synthetic_sources_say_so():
    by_name = {ds.name: ds for ds in load_registry()}
    assert by_name["police_uk__street_crime"].origin == "public"
    assert by_name["reference__lsoa_population"].origin == "synthetic"


@pytest.mark.parametrize("ds", load_registry(), ids=lambda d: d.name)
def test_dataset_declares_governance_and_its_person_keys_are_pseudonyms(ds):
    assert ds.lawful_basis and ds.sharing_agreement and ds.retention_months > 0
    assert ds.publication.aggregates in PUBLICATION_LEVELS
    if ds.publication.aggregates != "none":
        assert ds.agreement_reference in ds.publication.clause
    for name in ds.person_key_columns:
        # A person the gate links gets the partnership person id; a key sent by the agency is a pseudonym.
        expected = PERSON_ID_PATTERN if ds.linked_person(name) else PERSON_KEY_PATTERN
        assert ds.column(name).value_pattern == expected
    if ds.person_key_columns:
        assert ds.linkage or ds.agency == "health", f"{ds.name} should say how its person keys link"


def test_files_derived_from_the_registry_are_up_to_date():
    assert sync.out_of_date() == [], "run `partnership registry sync` and commit the result"


@pytest.mark.parametrize("ds", load_registry(), ids=lambda d: d.name)
def test_staging_accepted_values_are_the_registry_allowed_values(ds):
    """The starter staging yml is refined by hand after `registry sync` writes it; each column the registry
    gives allowed values must still test them, and exactly them, or staging and the gate judge differently."""
    path = sync.staging_dir(ds.agency) / f"stg_{ds.name}.yml"
    model = next(m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == f"stg_{ds.name}")
    tested = sync.accepted_values_by_column(model)
    drift = []
    for column in (c for c in ds.columns if c.allowed):
        values = tested.get(column.name)
        if values is None or sorted(values) != sorted(sync.accepted_values(column)):
            drift.append(f"{path.relative_to(settings.DBT_PROJECT_DIR.parent)}: column {column.name!r}")
    assert drift == [], "accepted_values differ from the registry's allowed values (sync.accepted_values)"


@pytest.mark.parametrize("ds", load_registry(), ids=lambda d: d.name)
def test_every_dataset_has_a_staging_model(ds):
    folder = settings.DBT_PROJECT_DIR / "models" / "staging" / ds.agency
    assert (folder / f"stg_{ds.name}.sql").exists()
    assert (folder / f"stg_{ds.name}.yml").exists()


def test_a_registry_entry_naming_an_unknown_key_column_is_rejected(tmp_path):
    entry = tmp_path / "police__broken.yml"
    entry.write_text(
        "agency: police\ndataset: broken\ndescription: x\nlanding_pattern: 'b_*.csv'\ncadence: monthly\n"
        "record_date_column: day\nkey_columns: [nope]\nlawful_basis: x\nsharing_agreement: x\n"
        "retention_months: 12\npublication: {aggregates: none}\ncolumns:\n  - {name: day, type: date}\n"
    )
    with pytest.raises(RegistryError, match="'nope' is not one of its columns"):
        _parse(entry)


@pytest.mark.parametrize("path", sorted(REGISTRY_DIR.glob("*.yml")), ids=lambda p: p.stem)
def test_each_entry_reads_the_same_with_libyaml_as_with_pyyamls_own_parser(path):
    """The registry is read with libyaml's parser (fast: it is read in every task's process); what it reads must
    be what PyYAML's pure-Python safe loader reads: the same values, the same types (dates, numbers, strings)."""
    assert registry._YAML_LOADER is yaml.CSafeLoader, "PyYAML without libyaml: the registry reads it slowly"
    text = path.read_text()
    assert yaml.load(text, Loader=registry._YAML_LOADER) == yaml.safe_load(text)


def test_a_registry_file_that_is_not_yaml_is_rejected_naming_it(tmp_path):
    entry = tmp_path / "police__broken.yml"
    entry.write_text("agency: police\ndataset: [broken\n")
    with pytest.raises(RegistryError, match=r"(?s)police__broken.yml: not valid YAML.*line 2, column 10"):
        _parse(entry)


def test_a_registry_file_must_be_named_after_its_dataset(tmp_path):
    entry = tmp_path / "wrong_name.yml"
    entry.write_text(
        "agency: police\ndataset: ok\ndescription: x\nlanding_pattern: 'b_*.csv'\ncadence: monthly\n"
        "record_date_column: day\nkey_columns: [day]\nlawful_basis: x\nsharing_agreement: x\n"
        "retention_months: 12\npublication: {aggregates: none}\ncolumns:\n  - {name: day, type: date}\n"
    )
    with pytest.raises(RegistryError, match="police__ok.yml"):
        _parse(entry)


def entry_with_publication(tmp_path, publication: str):
    entry = tmp_path / "police__pub.yml"
    entry.write_text(
        "agency: police\ndataset: pub\ndescription: x\nlanding_pattern: 'p_*.csv'\ncadence: monthly\n"
        "record_date_column: day\nkey_columns: [day]\nlawful_basis: x\nsharing_agreement: MCSP-DSA-001 (GMP)\n"
        f"retention_months: 12\npublication: {publication}\ncolumns:\n  - {{name: day, type: date}}\n"
    )
    return entry


def test_a_publication_level_and_its_clause_are_read(tmp_path):
    entry = entry_with_publication(
        tmp_path, "{aggregates: partnership, clause: 'MCSP-DSA-001 (GMP) s.6: to the Board'}"
    )
    pub = _parse(entry).publication
    assert (pub.aggregates, pub.clause) == ("partnership", "MCSP-DSA-001 (GMP) s.6: to the Board")
    assert pub.allows("partnership") and not pub.allows("public")


@pytest.mark.parametrize(
    ("publication", "error"),
    [
        ("{aggregates: public}", "publication public needs the agreement clause"),
        ("{aggregates: partnership, clause: ''}", "publication partnership needs the agreement clause"),
        ("{aggregates: publishable, clause: 'MCSP-DSA-001'}", "aggregates must be one of none, partnership, public"),
        ("internal_only", "publication must be a mapping"),  # the old flat form
        ("{aggregates: public, clause: 'MCSP-DSA-004 s.6: may be published'}", "must name its sharing agreement"),
    ],
)
def test_a_publication_without_a_known_level_and_its_agreement_clause_is_rejected(tmp_path, publication, error):
    with pytest.raises(RegistryError, match=error):
        _parse(entry_with_publication(tmp_path, publication))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("upload_complete: {quiet_seconds: 0}", "quiet_seconds"),
        ("upload_complete: {marker: maybe}", "marker"),
        ("upload_complete: {wait: 5}", "upload_complete"),
        ("quarantine_days: 0", "quarantine_days"),
    ],
)
def test_file_handling_settings_are_checked(tmp_path, setting, message):
    entry = entry_with_publication(tmp_path, "{aggregates: none}")
    entry.write_text(entry.read_text() + setting + "\n")
    with pytest.raises(RegistryError, match=message):
        _parse(entry)


def test_file_handling_defaults():
    ds = load_registry()[0]
    assert (ds.upload_complete.marker, ds.upload_complete.quiet_seconds, ds.quarantine_days) == (
        False,
        300,
        30,
    )


def entry_with_screening(tmp_path, name_screen: str, note_column: str):
    entry = tmp_path / "police__notes.yml"
    entry.write_text(
        "agency: police\ndataset: notes\ndescription: x\nlanding_pattern: 'n_*.csv'\ncadence: monthly\n"
        "record_date_column: day\nkey_columns: [day]\nlawful_basis: x\nsharing_agreement: x\n"
        f"retention_months: 12\npublication: {{aggregates: none}}\n{name_screen}"
        f"columns:\n  - {{name: day, type: date}}\n  - {note_column}\n"
    )
    return entry


def entry_without_a_key(tmp_path, extra: str = "", key: str = "[]"):
    entry = tmp_path / "police_uk__reissued.yml"
    entry.write_text(
        "agency: police_uk\ndataset: reissued\ndescription: x\nlanding_pattern: '*-r.csv'\ncadence: monthly\n"
        f"record_date_column: month\nkey_columns: {key}\nlawful_basis: x\nsharing_agreement: x\n"
        "retention_months: 12\npublication: {aggregates: none}\ncolumns:\n"
        "  - {name: month, type: month}\n  - {name: stamp, type: datetime}\n  - {name: note, type: string}\n" + extra
    )
    return entry


def test_free_text_columns_and_the_name_screen_severity_are_read(tmp_path):
    ds = _parse(entry_with_screening(tmp_path, "name_screen: critical\n", "{name: note, free_text: true}"))
    assert ds.name_screen == "critical" and ds.column("note").free_text and not ds.column("day").free_text
    assert _parse(entry_with_screening(tmp_path, "", "{name: note}")).name_screen == "warning"  # the default


@pytest.mark.parametrize(
    ("name_screen", "note_column", "error"),
    [
        ("name_screen: block\n", "{name: note}", "name_screen must be one of critical, warning"),
        ("", "{name: note, free_text: 'yes'}", "free_text is true or false, on a string column"),
        ("", "{name: note, type: integer, free_text: true}", "free_text is true or false, on a string column"),
    ],
)
def test_a_bad_free_text_flag_or_name_screen_is_rejected(tmp_path, name_screen, note_column, error):
    with pytest.raises(RegistryError, match=error):
        _parse(entry_with_screening(tmp_path, name_screen, note_column))


def test_a_dataset_without_a_record_key_says_which_month_a_file_supersedes(tmp_path):
    ds = _parse(entry_without_a_key(tmp_path, "supersedes_by: {period: month, column: stamp}\n"))
    assert (ds.supersedes_by.period, ds.supersedes_by.column, ds.supersedes_by.within) == ("month", "stamp", ())


def test_a_file_supersedes_only_its_own_part_of_a_month_when_within_says_so(tmp_path):
    """police.uk files are per force: a file supersedes the month of the force it is of, not another's."""
    ds = _parse(entry_without_a_key(tmp_path, "supersedes_by: {period: month, column: month, within: [note]}\n"))
    assert ds.supersedes_by.within == ("note",)


@pytest.mark.parametrize(
    ("extra", "key", "error"),
    [
        ("", "[]", "no record key: say which month a file supersedes"),
        ("supersedes_by: {period: month, column: nope}\n", "[]", "'nope' is not one of its columns"),
        ("supersedes_by: {period: month, column: note}\n", "[]", "must be a month, date or datetime"),
        ("supersedes_by: {period: week, column: month}\n", "[]", "period must be one of month"),
        ("supersedes_by: month\n", "[]", "supersedes_by must be a mapping"),
        ("supersedes_by: {period: month, column: month}\n", "[note]", "has a record key"),
        ("supersedes_by: {period: month, column: month, within: [nope]}\n", "[]", "within 'nope' is not one of"),
        ("supersedes_by: {period: month, column: month, within: note}\n", "[]", "within must be a list of"),
        ("supersedes_by: {period: month, column: month, within: []}\n", "[]", "within must be a list of"),
        ("supersedes_by: {period: month, column: month, within: [month]}\n", "[]", "within 'month' is the period"),
        ("supersedes_by: {period: month, column: month, by: [note]}\n", "[]", "supersedes_by must be a mapping"),
    ],
)
def test_a_misdeclared_supersedes_by_is_rejected(tmp_path, extra, key, error):
    with pytest.raises(RegistryError, match=error):
        _parse(entry_without_a_key(tmp_path, extra, key))


@pytest.mark.parametrize("ds", [d for d in load_registry() if d.supersedes_by], ids=lambda d: d.name)
def test_the_staging_model_of_a_dataset_without_a_key_counts_only_the_latest_file_per_month(ds, dbt_manifest):
    """The model is refined by hand after sync writes it; it must still keep the latest issue of each month."""
    nodes = json.loads(dbt_manifest.read_text())["nodes"]
    model = nodes[f"model.partnership.stg_{ds.name}"]
    assert "macro.partnership.latest_issue" in model["depends_on"]["macros"]
    source = json.loads(dbt_manifest.read_text())["sources"][f"source.partnership.{ds.agency}.{ds.dataset}"]
    rule = {"period": "month", "column": ds.supersedes_by.column}
    if ds.supersedes_by.within:  # the columns a file's part of a month is told by (police.uk: its force)
        rule["within"] = list(ds.supersedes_by.within)
    assert source["meta"]["supersedes_by"] == rule


def test_a_police_uk_street_crime_file_supersedes_only_its_own_forces_month():
    assert get_dataset("police_uk__street_crime").supersedes_by.within == ("reported_by",)


# --- delivery calendar and alert recipients -------------------------------------------------------------------


def test_delivery_calendars_default_from_cadence_and_a_few_are_set():
    by_name = {ds.name: ds for ds in load_registry()}
    crimes = by_name["police__recorded_crime"].delivery
    assert (crimes.every, crimes.due_working_days) == ("month", 10)
    attendance = by_name["education__attendance"].delivery
    assert (attendance.every, attendance.due_working_days) == ("term", 20)
    population = by_name["reference__lsoa_population"].delivery
    assert (population.every, population.year, population.due_working_days) == ("year", "calendar", 140)
    assert all(ds.delivery.every in DELIVERY_PERIODS for ds in by_name.values())


def test_alert_recipients_default_to_the_agencys_data_owner_and_the_ig_contact():
    for ds in load_registry():
        assert ds.alert_recipients == (f"alert_recipients_{ds.agency}", "alert_recipients_ig")


def test_delivery_and_alert_recipients_can_be_set(tmp_path):
    entry = entry_with_publication(tmp_path, "{aggregates: none}")
    entry.write_text(
        entry.read_text()
        + "delivery: {every: year, year: financial, due_working_days: 30}\n"
        + "alert_recipients: [alert_recipients_police_owner, ig.contact]\n"
    )
    ds = _parse(entry)
    assert (ds.delivery.every, ds.delivery.year, ds.delivery.due_working_days) == ("year", "financial", 30)
    assert ds.alert_recipients == ("alert_recipients_police_owner", "ig.contact")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("delivery: monthly", "delivery must be a mapping"),
        ("delivery: {every: month}", "delivery must be a mapping"),
        ("delivery: {every: month, due_working_days: 10, by: noon}", "delivery must be a mapping"),
        ("delivery: {every: fortnight, due_working_days: 10}", "every must be one of day, week, month, term, year"),
        ("delivery: {every: month, due_working_days: 0}", "due_working_days must be a whole number"),
        ("delivery: {every: month, due_working_days: 2.5}", "due_working_days must be a whole number"),
        ("delivery: {every: month, year: calendar, due_working_days: 5}", "only for every: year"),
        ("delivery: {every: year, year: academic, due_working_days: 5}", "year must be one of financial, calendar"),
        ("alert_recipients: alert_recipients_police", "must be a list of Airflow Variable names"),
        ("alert_recipients: []", "must be a list of Airflow Variable names"),
        ("alert_recipients: [owner@police.example]", "never an address"),
        ("alert_recipients: ['data owner']", "is not an Airflow Variable name"),
        ("alert_recipients: [a, a]", "lists a Variable twice"),
    ],
)
def test_delivery_and_alert_recipient_settings_are_checked(tmp_path, setting, message):
    entry = entry_with_publication(tmp_path, "{aggregates: none}")
    entry.write_text(entry.read_text() + setting + "\n")
    with pytest.raises(RegistryError, match=message):
        _parse(entry)


def test_a_day_or_week_calendar_needs_records_dated_to_the_day(tmp_path):
    entry = tmp_path / "police__monthly.yml"
    entry.write_text(
        "agency: police\ndataset: monthly\ndescription: x\nlanding_pattern: 'm_*.csv'\ncadence: weekly\n"
        "record_date_column: month\nkey_columns: [month]\nlawful_basis: x\nsharing_agreement: x\n"
        "retention_months: 12\npublication: {aggregates: none}\ncolumns:\n  - {name: month, type: month}\n"
    )
    with pytest.raises(RegistryError, match="delivery every week needs a record_date_column dated to the day"):
        _parse(entry)
    entry.write_text(entry.read_text().replace("type: month", "type: string"))
    with pytest.raises(RegistryError, match="must be a month, date or datetime written YYYY-MM"):
        _parse(entry)


FIRE_EXAMPLE = settings.PROJECT_ROOT / "docs" / "examples" / "fire__firesetter_referrals.yml"


def test_the_fire_example_declares_its_person_contacts_and_generation_profile():
    ds = _parse(FIRE_EXAMPLE)
    (contact,) = ds.person_contacts
    assert (contact.type, contact.person, contact.date, contact.age) == (
        "fire_firesetter_referral",
        "child_person_key",
        "referral_date",
        "age_at_referral",
    )
    assert ds.generation.rows_per_month == 20 and ds.generation.ages == (5, 17)
    assert ds.generation.rule("outcome").blank == 0.15
    assert ds.generation.rule("referral_date") is None  # drawn by its type: a day of the month


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("person: child_person_key", "person: sex", "person 'sex' must be a person key column"),
        ("date: referral_date", "date: ward_code", "date 'ward_code' must be a date, datetime or month column"),
        ("age: age_at_referral", "age: behaviour", "age 'behaviour' must be an integer column"),
        ("age: age_at_referral,", "age: age_at_referral, when: {behaviour: [Arson, Fire]},", r"\['Fire'\] not allowed"),
        ("age: age_at_referral,", "age: age_at_referral, ward: x,", "unknown ward"),
        ("type: fire_firesetter_referral", "type: Fire Referral", "type must be lower-case"),
        ("rows_per_month: 20", "rows_per_month: 0", "rows_per_month is a whole number"),
        ('{format: "FSR{month:%Y%m}{seq:05d}"}', '{format: "FS{month:%Y%m}{seq:05d}"}', "the column's pattern refuses"),
        ('{format: "FSR{month:%Y%m}{seq:05d}"}', '{format: "FSR{when}"}', "format uses only {month} and {seq}"),
        ("{person: age}", "{person: age, blank: 0.1}", "a required column cannot be left blank"),
        ("{person: sex}", "{person: shoe_size}", "person is one of key, age"),
        ("Hoax call: 5}", "Hoax call: 5, Flood: 1}", "weights name values the column does not allow"),
        ("    ward_code: {place: ward_code}\n", "", "say how 'ward_code' is drawn"),
        # dbt renders descriptions, comments and literals as Jinja: a template in the registry would run.
        ("description: Referrals of", "description: Referrals HOME={{ env_var('HOME') }} of", "holds no Jinja"),
        ("age: age_at_referral,", "age: age_at_referral, when: {sex: ['{% do x %}']},", "holds no Jinja"),
        ("age: age_at_referral,", "age: age_at_referral, when: {age_at_referral: ['10']},", "must be a text column"),
        ("age: age_at_referral,", "age: age_at_referral, when: {sex: [yes]},", "when values are text"),
        ("type: fire_firesetter_referral", "type: order", None),  # a SQL word is fine: CTEs are <type>_contacts
        ("ages: [5, 17]", "ages: [5, 30]", r"ages \[5, 30\] go outside age_at_referral's min and max"),
        ("{weights: {Curiosity: 50,", "{weights: {Jane Smith: 50,", "weights name values the column does not allow"),
        (
            "  - {name: behaviour,",
            "  - {name: note, type: string}\n  - {name: behaviour,",
            None,  # an optional column with no rule is left empty
        ),
    ],
)
def test_a_misdeclared_person_contact_or_generation_profile_is_refused_by_name(tmp_path, old, new, error):
    text = FIRE_EXAMPLE.read_text()
    assert old in text
    entry = tmp_path / FIRE_EXAMPLE.name
    entry.write_text(text.replace(old, new, 1))
    if error is None:
        _parse(entry)
        return
    with pytest.raises(RegistryError, match=error) as caught:
        _parse(entry)
    assert FIRE_EXAMPLE.name in str(caught.value)


@pytest.mark.parametrize(
    "rule",
    [
        '{value: "Jane Smith, NHS 943 476 5919"}',
        '{weights: {"seen at M1 1AE": 1, "none": 3}}',
        '{format: "born 01/02/2011 ref {seq}"}',
    ],
)
def test_a_generation_profile_cannot_write_a_direct_identifier(tmp_path, rule):
    # Demo data is codes: what the gate's screen would call an identifier never goes into a generated file.
    text = FIRE_EXAMPLE.read_text().replace(
        "  - {name: behaviour,", "  - {name: note, type: string}\n  - {name: behaviour,", 1
    )
    ward = "    ward_code: {place: ward_code}\n"
    text = text.replace(ward, f"{ward}    note: {rule}\n")
    entry = tmp_path / FIRE_EXAMPLE.name
    entry.write_text(text)
    with pytest.raises(RegistryError, match="looks like a direct identifier"):
        _parse(entry)


def test_two_datasets_may_not_declare_the_same_contact_type(tmp_path):
    import shutil

    shutil.copytree(settings.REGISTRY_DIR, tmp_path, dirs_exist_ok=True)
    entry = tmp_path / FIRE_EXAMPLE.name
    entry.write_text(FIRE_EXAMPLE.read_text().replace("type: fire_firesetter_referral", "type: police_victim"))
    with pytest.raises(RegistryError, match="type 'police_victim' is also fire__firesetter_referrals's"):
        load_registry(tmp_path)


def test_the_person_contacts_model_is_written_from_the_registry():
    """int_person_contacts_unioned is generated: every declared contact is in it, and nothing else."""
    model = (sync.person_contacts_dir() / f"{sync.PERSON_CONTACTS_MODEL}.sql").read_text()
    declared = [(ds, c) for ds in load_registry() for c in ds.person_contacts]
    assert {c.type for _, c in declared} >= {"police_suspect", "police_victim", "youth_justice_case", "ae_violence"}
    for ds, c in declared:
        assert f"'{c.type}' as contact_type" in model and f"ref('stg_{ds.name}')" in model
    assert model.count(" as contact_type") == len(declared)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("agency: fire", 'agency: "fire\'); drop table x; --"', "agency .* must be lower-case letters"),
        ("dataset: firesetter_referrals", "dataset: fire__setter", "dataset 'fire__setter' must be"),
        ("{name: behaviour,", '{name: "Behaviour",', "column 'Behaviour' must be"),
    ],
)
def test_names_that_become_sql_are_plain_lower_case(tmp_path, old, new, error):
    # They become table, column and role names and literals in generated SQL (staging, person contacts).
    text = FIRE_EXAMPLE.read_text().replace(old, new, 1)
    entry = tmp_path / FIRE_EXAMPLE.name
    entry.write_text(text)
    with pytest.raises(RegistryError, match=error):
        _parse(entry)


def test_a_contact_description_stays_a_one_line_comment_without_jinja():
    # dbt renders the generated model's comments too: a description must not end the comment or run Jinja.
    import dataclasses

    ds = get_dataset("youth_justice__cases")
    sneaky = "x\nunion all select 1 -- {{ run_query('drop schema raw cascade') }} {% do x %}"
    contact = dataclasses.replace(ds.person_contacts[0], description=sneaky)
    comment = sync._contact_select(ds, contact).splitlines()[1]
    assert comment.strip().startswith("-- x union all select 1")
    assert not any(token in sync._contact_select(ds, contact) for token in ("{{ run_query", "{%"))


def entry_with_linked_persons(tmp_path, linked: str):
    entry = tmp_path / "youth_justice__linked.yml"
    entry.write_text(
        "agency: youth_justice\ndataset: linked\ndescription: x\nlanding_pattern: 'l_*.csv'\ncadence: monthly\n"
        "record_date_column: day\nkey_columns: [case_id]\nlawful_basis: x\nsharing_agreement: x\n"
        "retention_months: 12\npublication: {aggregates: none}\ncolumns:\n  - {name: case_id, type: string}\n"
        "  - {name: child_person_key, type: string, identifier: person}\n  - {name: sex, type: string}\n"
        "  - {name: day, type: date}\n" + linked
    )
    return entry


def test_a_linked_persons_details_replace_its_person_column_in_the_file(tmp_path):
    ds = _parse(
        entry_with_linked_persons(
            tmp_path,
            "linked_persons:\n  - person: child_person_key\n"
            "    fields: {child_surname: surname, child_date_of_birth: date_of_birth, sex: sex}\n",
        )
    )
    assert ds.file_headers == ["case_id", "child_surname", "child_date_of_birth", "sex", "day"]
    assert ds.column_names == ["case_id", "child_person_key", "sex", "day"]  # what the raw table holds
    assert ds.linkage_columns == {"child_surname", "child_date_of_birth"}  # sex is loaded anyway
    assert ds.column("child_person_key").value_pattern == PERSON_ID_PATTERN
    assert ds.sends_raw_identifiers


@pytest.mark.parametrize(
    ("linked", "error"),
    [
        ("  - person: case_id\n    fields: {child_surname: surname}\n", "must be one of its person key columns"),
        ("  - person: child_person_key\n    fields: {child_address: address}\n", "not linkage fields"),
        ("  - person: child_person_key\n    fields: {day: date_of_birth}\n", "only sex may be read from a loaded"),
        ("  - person: child_person_key\n    fields: {a_name: surname, b_name: surname}\n", "given twice"),
        ("  - person: child_person_key\n", "must be a list of mappings"),
    ],
)
def test_a_misdeclared_linked_person_is_rejected(tmp_path, linked, error):
    with pytest.raises(RegistryError, match=error):
        _parse(entry_with_linked_persons(tmp_path, "linked_persons:\n" + linked))
