"""Warehouse security against a real PostgreSQL: each role, logged in as a member of it, reads exactly what it
should; row-level security follows the registry's sharing terms; new models get grants with no extra step;
init is idempotent and records what it changed."""

import uuid

import psycopg
import pytest
import yaml
from conftest import with_database

from partnership import loader, runner, security, settings, warehouse
from partnership.generator import generate
from partnership.registry import get_dataset, load_registry

integration = pytest.mark.integration
DENIED = psycopg.errors.InsufficientPrivilege


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    """A warehouse with a month of every dataset loaded and the whole dbt project built (as the superuser, as
    the end-to-end run does)."""
    name = f"partnership_sec_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", url)
        mp.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path_factory.mktemp("sec-data")))
        warehouse.init_warehouse(url)
        for dataset, paths in generate(months=1, scale=0.1).items():
            for path in paths:
                assert loader.ingest_file(get_dataset(dataset), path)["status"] == "loaded"
        runner.dbt("build", url=url)
    yield url
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def relations(url, *schemas):
    with warehouse.connect(url) as conn:
        return [
            f"{s}.{t}"
            for s, t in conn.execute(
                "select table_schema, table_name from information_schema.tables where table_schema = any(%s) "
                "order by 1, 2",
                (list(schemas),),
            )
        ]


def can_read(url, relation) -> bool:
    with psycopg.connect(warehouse.conninfo(url)) as conn:
        try:
            conn.execute(f"select * from {relation} limit 1").fetchall()
            return True
        except DENIED:
            return False


def rows(url, query, *params):
    with psycopg.connect(warehouse.conninfo(url)) as conn:
        return conn.execute(query, params).fetchall()


@integration
def test_analyst_reads_aggregate_marts_and_publish_and_nothing_else(built, login_role):
    with warehouse.connect(built) as conn:  # dbt has no publish model yet: make one as dbt would
        conn.execute("set role pw_transformer")
        conn.execute("create table publish.pub_example as select 1 as n")
    _, analyst = login_role(built, security.ANALYST)
    readable = relations(built, "marts", "publish")
    assert {"marts.fct_crimes_by_ward_month", "marts.fct_cross_agency_cohort", "publish.pub_example"} <= set(readable)
    for relation in readable:
        assert can_read(analyst, relation), relation
    # publish_staging holds the publish models before disclosure control: nobody but the transformer reads it.
    forbidden = relations(built, "raw", "staging", "intermediate", "publish_staging", "audit", "reference")
    assert {
        "intermediate.int_people_linked",
        "staging.stg_police__recorded_crime",
        "publish_staging.pub_cohort_overlap",
        "audit.load_batch",
    } <= set(forbidden)
    for relation in forbidden:
        assert not can_read(analyst, relation), relation


@integration
def test_restricted_analyst_sees_only_rows_their_partner_is_allowed(built, login_role):
    _, probation = login_role(built, security.RESTRICTED_ANALYST, security.partner_role("probation"))
    _, council = login_role(built, security.RESTRICTED_ANALYST, security.partner_role("council"))
    _, no_partner = login_role(built, security.RESTRICTED_ANALYST)
    everyone = dict(rows(built, "select agency, count(*) from intermediate.int_person_contacts_unioned group by 1"))
    assert set(everyone) == {"police", "youth_justice", "education", "health"}

    count_by_agency = "select agency, count(*) from intermediate.int_person_contacts_unioned group by 1"
    # Probation is in police's shared_with only (plugins/partnership/registry/).
    assert "probation" in get_dataset("police__recorded_crime").shared_with
    assert dict(rows(probation, count_by_agency)) == {"police": everyone["police"]}
    assert dict(rows(council, count_by_agency)) == everyone
    assert rows(no_partner, count_by_agency) == []
    # The linked-people view applies the same rows: probation links people across police contacts only.
    linked = "select count(*) filter (where not known_to_police or known_to_health), count(*) from {}"
    hidden, people = rows(probation, linked.format("intermediate.int_people_linked"))[0]
    assert hidden == 0 and people > 0
    assert rows(built, "select count(*) from intermediate.int_people_linked where known_to_health")[0][0] > 0
    # Restricted analysts are analysts too, but still see no staging or raw rows.
    assert can_read(probation, "marts.fct_cross_agency_cohort")
    assert not can_read(probation, "staging.stg_health__ae_assault_attendances")
    assert not can_read(probation, "raw.health__ae_assault_attendances")


@integration
def test_sharing_terms_come_from_the_registry(built):
    expected = {(f"pw_partner_{p}", ds.agency) for ds in load_registry() for p in (ds.agency, *ds.shared_with)}
    assert set(rows(built, "select role_name, agency from audit.partner_access")) == expected
    assert ("pw_partner_probation", "health") not in expected


@integration
def test_ig_reviewer_reads_audit_and_reference_but_no_person_level_data(built, login_role):
    _, reviewer = login_role(built, security.IG_REVIEWER)
    for relation in relations(built, "audit", "reference"):
        assert can_read(reviewer, relation), relation
    loaded = "select count(*) from audit.load_batch where status = 'loaded'"
    with warehouse.connect(built) as conn:
        assert rows(reviewer, loaded)[0][0] == conn.execute(loaded).fetchone()[0] >= len(load_registry()) - 1
    for relation in relations(built, "raw", "staging", "intermediate"):
        assert not can_read(reviewer, relation), relation


@integration
def test_a_new_model_made_by_the_transformer_is_readable_with_no_extra_grant(built, login_role):
    with warehouse.connect(built) as conn:  # as dbt would, running as the transformer role
        conn.execute("set role pw_transformer")
        conn.execute("create table marts.fct_new_mart as select 1 as people")
        conn.execute("create view intermediate.int_new_people as select 'p1' as person_key")
    _, analyst = login_role(built, security.ANALYST)
    _, restricted = login_role(built, security.RESTRICTED_ANALYST)
    assert rows(analyst, "select people from marts.fct_new_mart") == [(1,)]
    assert not can_read(analyst, "intermediate.int_new_people")
    assert rows(restricted, "select person_key from intermediate.int_new_people") == [("p1",)]


@integration
def test_dbt_models_carry_their_grants_and_row_security(built):
    """dbt ran as the superuser, not the transformer: its `+grants` and post-hooks did the work."""
    acl = dict(
        rows(
            built,
            "select n.nspname || '.' || c.relname, c.relacl::text from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('intermediate', 'marts', 'reference')",
        )
    )
    assert "pw_analyst=r/" in acl["marts.fct_cross_agency_cohort"]
    assert "pw_restricted_analyst=r/" in acl["intermediate.int_person_contacts_unioned"]
    assert "pw_ig_reviewer=r/" in acl["reference.ons_lsoa11_to_ward19"]
    assert rows(
        built,
        "select relrowsecurity from pg_class where oid = 'intermediate.int_person_contacts_unioned'::regclass",
    ) == [(True,)]


def test_dbt_grants_agree_with_the_default_privileges():
    """dbt revokes grants its config does not list, so dbt_project.yml must give what security.py gives."""
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    models = project["models"]["partnership"]
    assert models["intermediate"]["+grants"]["select"] == list(security.DBT_READERS["intermediate"])
    assert models["marts"]["+grants"]["select"] == list(security.DBT_READERS["marts"])
    assert "+grants" not in models["staging"] and security.DBT_READERS["staging"] == ()
    assert "+grants" not in models["publish"] and security.DBT_READERS["publish_staging"] == ()
    assert project["seeds"]["partnership"]["+grants"]["select"] == list(security.DBT_READERS["reference"])


@integration
def test_the_loader_loads_but_reads_no_models_and_cannot_rewrite_access_history(
    warehouse_url, data_dir, login_role, monkeypatch
):
    _, loader_url = login_role(warehouse_url, security.LOADER)
    monkeypatch.setenv("WAREHOUSE_URL", loader_url)
    path = generate(months=1, scale=0.1)["police__recorded_crime"][0]
    assert loader.ingest_file(get_dataset("police__recorded_crime"), path)["status"] == "loaded"
    for relation in ("marts.anything", "audit.access_change"):
        with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
            conn.execute(f"delete from {relation}")
    with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
        conn.execute("create table raw.sneaky (n int)")


@integration
def test_a_role_in_no_project_group_cannot_even_connect(warehouse_url, login_role):
    _, nobody = login_role(warehouse_url)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(warehouse.conninfo(nobody)).close()


# What "nothing changed" means, queried independently of security.snapshot().
CATALOG_SNAPSHOT = [
    "select rolname, rolcanlogin, rolinherit from pg_roles where rolname like 'pw\\_%' order by 1",
    "select roleid::regrole::text, member::regrole::text, admin_option from pg_auth_members "
    "where roleid::regrole::text like 'pw\\_%' order by 1, 2",
    "select datacl::text from pg_database where datname = current_database()",
    "select nspname, nspowner::regrole::text, nspacl::text from pg_namespace order by 1",
    "select relnamespace::regnamespace::text, relname, relowner::regrole::text, relacl::text, relrowsecurity "
    "from pg_class where relnamespace::regnamespace::text = any(%s) order by 1, 2",
    "select defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text "
    "from pg_default_acl order by 1, 2, 3",
    "select schemaname, tablename, policyname, roles::text, qual from pg_policies order by 1, 2, 3",
    "select role_name, agency from audit.partner_access order by 1, 2",
    "select count(*) from audit.access_change",
]


def catalog_snapshot(url):
    with warehouse.connect(url) as conn:
        return [conn.execute(q, (list(settings.SCHEMAS),) if "%s" in q else None).fetchall() for q in CATALOG_SNAPSHOT]


@integration
@pytest.mark.parametrize("database", ["fresh", "built"])
def test_init_twice_changes_nothing_the_second_time(database, warehouse_url, request):
    url = warehouse_url if database == "fresh" else request.getfixturevalue("built")
    warehouse.init_warehouse(url)  # once more: the fixtures already initialised it
    before = catalog_snapshot(url)
    warehouse.init_warehouse(url)
    assert catalog_snapshot(url) == before


@integration
def test_init_records_the_grants_it_made(warehouse_url):
    recorded = set(rows(warehouse_url, "select change, kind, object, detail from audit.access_change"))
    assert ("granted", "relation", "audit.load_batch", "pw_loader INSERT") in recorded
    assert ("granted", "default", "for pw_transformer in marts on r", "pw_analyst SELECT") in recorded
    assert ("revoked", "database", warehouse.url_parts(warehouse_url)["dbname"], "PUBLIC CONNECT") in recorded
    assert ("granted", "partner_access", "pw_partner_probation", "police") in recorded
    with warehouse.connect(warehouse_url) as conn:  # a sharing term withdrawn is recorded as revoked
        conn.execute("insert into audit.partner_access values ('pw_partner_probation', 'health')")
    warehouse.init_warehouse(warehouse_url)
    withdrawn = "select change from audit.access_change where object = 'pw_partner_probation' and detail = 'health'"
    assert rows(warehouse_url, withdrawn) == [("revoked",)]


def test_no_password_is_written_in_the_repository():
    """Secrets come from the environment: no credentials in URLs of tracked files, only ${VAR} references
    (or the placeholders "…" and "password" in documentation)."""
    import re
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=settings.PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    credential = re.compile(r"\w+://[^/\s:@'\"]+:(?!\$|…|\{\{|password@)[^@\s/'\"]+@")
    offenders = [
        f
        for f in tracked
        if f.endswith((".py", ".yml", ".yaml", ".toml", ".md", ".example", ".cfg", ".ini", "Dockerfile", "Makefile"))
        and credential.search((settings.PROJECT_ROOT / f).read_text(errors="ignore"))
    ]
    assert offenders == []
