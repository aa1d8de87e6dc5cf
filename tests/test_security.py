"""Warehouse security against a real PostgreSQL: each role, logged in as a member of it, reads exactly what it
should; row-level security follows the registry's sharing terms; new models get grants with no extra step;
init is idempotent and records what it changed."""

import contextlib
import os
import uuid
from datetime import date, timedelta

import psycopg
import pytest
import yaml
from conftest import with_database
from psycopg import sql

from partnership import (
    disclosure,
    loader,
    publish,
    quarantine,
    report,
    retention,
    runner,
    security,
    settings,
    warehouse,
)
from partnership.demo import defects
from partnership.demo.generator import generate
from partnership.registry import get_dataset, load_registry

integration = pytest.mark.integration
DENIED = psycopg.errors.InsufficientPrivilege


@pytest.fixture(scope="module")
def built(pipeline_run_module_copy):
    """A warehouse with every dataset loaded and the whole dbt project built (as the superuser): a copy of the
    shared end-to-end run's, which is exactly that."""
    return pipeline_run_module_copy["url"]


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
    try:
        _, analyst = login_role(built, security.ANALYST)
        _, restricted = login_role(built, security.RESTRICTED_ANALYST)
        assert rows(analyst, "select people from marts.fct_new_mart") == [(1,)]
        assert not can_read(analyst, "intermediate.int_new_people")
        assert rows(restricted, "select person_key from intermediate.int_new_people") == [("p1",)]
    finally:  # `built` is shared by the module: leave it as the fixture made it
        with warehouse.connect(built) as conn:
            conn.execute("drop table marts.fct_new_mart")
            conn.execute("drop view intermediate.int_new_people")


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
    """dbt revokes grants its config does not list, so dbt_project.yml must give what partnership.security gives."""
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
    assert loader.ingest_file(get_dataset("police__recorded_crime"), path).status == "loaded"
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


# Roles belong to the server, not to a database: while a test here runs, tests in other pytest-xdist workers make
# and drop LOGIN roles of their own (pwtest_..., see conftest.login_role) in the project's groups, and init records
# those memberships too. A test that counts changes leaves out the memberships of test roles it did not make.
NOT_OTHER_TESTS_MEMBERS = "not (kind = 'member' and detail like 'pwtest\\_%%' and detail <> all(%s))"

# What "nothing changed" means, queried independently of security.snapshot().
CATALOG_SNAPSHOT = [
    "select rolname, rolcanlogin, rolinherit from pg_roles where rolname like 'pw\\_%' order by 1",
    "select roleid::regrole::text, member::regrole::text, admin_option from pg_auth_members "
    "where roleid::regrole::text like 'pw\\_%' and member::regrole::text not like 'pwtest\\_%' order by 1, 2",
    "select datacl::text from pg_database where datname = current_database()",
    "select nspname, nspowner::regrole::text, nspacl::text from pg_namespace order by 1",
    "select relnamespace::regnamespace::text, relname, relowner::regrole::text, relacl::text, relrowsecurity "
    "from pg_class where relnamespace::regnamespace::text = any(%s) order by 1, 2",
    "select defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text "
    "from pg_default_acl order by 1, 2, 3",
    "select schemaname, tablename, policyname, roles::text, qual from pg_policies order by 1, 2, 3",
    "select role_name, agency from audit.partner_access order by 1, 2",
    "select count(*) from audit.access_change where " + NOT_OTHER_TESTS_MEMBERS,
]


def catalog_snapshot(url):
    with warehouse.connect(url) as conn:
        return [
            conn.execute(q, (list(settings.SCHEMAS),) if "any(%s)" in q else ([],) if "%s" in q else None).fetchall()
            for q in CATALOG_SNAPSHOT
        ]


@integration
@pytest.mark.parametrize("database", ["fresh", "built"])
def test_init_twice_changes_nothing_the_second_time(database, warehouse_url, request):
    url = warehouse_url if database == "fresh" else request.getfixturevalue("built")
    warehouse.init_warehouse(url)  # once more: the fixtures already initialised it
    before = catalog_snapshot(url)
    warehouse.init_warehouse(url)
    assert catalog_snapshot(url) == before


def _grant_at_the_same_moment(server_url, statement: sql.Composable) -> Exception | None:
    """Two sessions run the statement at once, as two databases' inits on one server would: the first holds its
    uncommitted grant while the second runs. Returns what the second raised, if anything."""
    import threading

    raised = []
    with psycopg.connect(warehouse.conninfo(server_url)) as first:
        first.execute(statement)  # granted, not yet committed

        def second():
            try:
                with psycopg.connect(warehouse.conninfo(server_url)) as conn:
                    conn.execute(statement)  # waits on the first's row, then finds it
            except psycopg.Error as exc:
                raised.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)  # the second session is now waiting on the first
        first.commit()
        thread.join(timeout=30)
    return raised[0] if raised else None


@integration
def test_two_inits_granting_the_same_membership_at_once_both_succeed(server_url, login_role):
    # Two roles of this test's own (roles are the server's: another test may be running init at this moment).
    role, _ = login_role(server_url)
    member, _ = login_role(server_url)
    plain = sql.SQL("grant {} to {}").format(sql.Identifier(role), sql.Identifier(member))
    assert isinstance(_grant_at_the_same_moment(server_url, plain), psycopg.errors.UniqueViolation)
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(role), sql.Identifier(member)))
    assert _grant_at_the_same_moment(server_url, security.grants._grant_membership(role, member)) is None
    with psycopg.connect(warehouse.conninfo(server_url)) as conn:
        granted = conn.execute(
            "select count(*) from pg_auth_members where roleid = %s::regrole and member = %s::regrole", (role, member)
        ).fetchone()[0]
    assert granted == 1


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


# --- the services' LOGIN roles, the loader's audit rows, row security that fails closed --------------------


@pytest.fixture
def service_logins(server_url, monkeypatch):
    """Names (unique per test: roles are cluster-wide) and passwords for the services' LOGIN roles, as the
    environment gives them to `partnership warehouse init`; the roles are dropped afterwards."""
    logins = {}
    for group, login in security.LOGINS.items():
        name = f"pwtest_{group.removeprefix('pw_')}_{uuid.uuid4().hex[:6]}"
        monkeypatch.setenv(login.name_variable, name)
        monkeypatch.setenv(login.password_variable, f"pw-{uuid.uuid4().hex}")
        logins[group] = name
    yield logins
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        for name in logins.values():
            conn.execute(f'drop role if exists "{name}"')


def as_login(url, name):
    return url.replace("//postgres@", f"//{name}@", 1)


@integration
def test_init_creates_a_login_role_for_each_service_from_the_environment(
    warehouse_url, service_logins, monkeypatch, caplog
):
    monkeypatch.delenv(security.LOGINS[security.IG_REVIEWER].password_variable)  # no password: no role
    warehouse.init_warehouse(warehouse_url)
    with warehouse.connect(warehouse_url) as conn:
        made = dict(
            conn.execute(
                "select r.rolname, array_agg(g.rolname::text order by g.rolname) from pg_roles r"
                " join pg_auth_members m on m.member = r.oid join pg_roles g on g.oid = m.roleid"
                " where r.rolname = any(%s) and r.rolcanlogin group by 1",
                (list(service_logins.values()),),
            ).fetchall()
        )
        recorded = conn.execute("select kind, object, detail from audit.access_change").fetchall()
    assert made == {
        service_logins[security.LOADER]: [security.LOADER],
        service_logins[security.TRANSFORMER]: [security.TRANSFORMER],
        service_logins[security.BOARD_REPORTER]: [security.BOARD_REPORTER],
    }
    assert ("member", security.LOADER, service_logins[security.LOADER]) in recorded
    assert ("password", service_logins[security.TRANSFORMER], "set") in recorded
    passwords = [
        os.environ[login.password_variable]
        for login in security.LOGINS.values()
        if login.password_variable in os.environ
    ]
    assert not any(p in str(recorded) or p in caplog.text for p in passwords)

    own = list(service_logins.values())
    recorded_now = "select count(*) from audit.access_change where " + NOT_OTHER_TESTS_MEMBERS
    before = rows(warehouse_url, recorded_now, own)[0][0]  # the same passwords again: nothing changes or is recorded
    last = rows(warehouse_url, "select max(change_id) from audit.access_change")[0][0]
    warehouse.init_warehouse(warehouse_url)
    assert rows(warehouse_url, recorded_now, own)[0][0] == before
    monkeypatch.setenv(security.LOGINS[security.LOADER].password_variable, "a-new-one-" + uuid.uuid4().hex)
    warehouse.init_warehouse(warehouse_url)  # a new password is set, and recorded (never its value)
    assert rows(
        warehouse_url,
        f"select kind, object, detail from audit.access_change where change_id > %s and {NOT_OTHER_TESTS_MEMBERS}",
        last,
        own,
    ) == [("password", service_logins[security.LOADER], "set")]


@integration
def test_the_loader_cannot_rewrite_a_finished_batch(warehouse_url, data_dir, login_role, monkeypatch):
    _, loader_url = login_role(warehouse_url, security.LOADER)
    monkeypatch.setenv("WAREHOUSE_URL", loader_url)
    crimes = get_dataset("police__recorded_crime")
    good, bad = generate(months=2, scale=0.1)["police__recorded_crime"]
    loaded = loader.ingest_file(crimes, good).batch_id
    defects.inject(crimes, bad, "missing_column")
    with pytest.raises(loader.QuarantinedFile):
        loader.ingest_file(crimes, bad)
    quarantined = rows(warehouse_url, "select max(batch_id) from audit.load_batch where status = 'quarantined'")[0][0]
    history = rows(warehouse_url, "select * from audit.load_batch order by batch_id")

    # Rewriting a loaded batch would free the no-double-load index or falsify what was loaded.
    for change in ("status = 'quarantined'", "file_sha256 = repeat('0', 64)", "row_count = 1", "resolution = 'x'"):
        with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
            conn.execute(f"update audit.load_batch set {change} where batch_id = %s", (loaded,))
    with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
        conn.execute("update audit.load_batch set status = 'loaded' where batch_id = %s", (quarantined,))
    assert rows(warehouse_url, "select * from audit.load_batch order by batch_id") == history
    # Nor add failed checks to an earlier batch.
    with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
        conn.execute(
            "insert into audit.validation_result (batch_id, expectation, success) values (%s, 'x', false)", (loaded,)
        )
    # A batch it makes now is dated now, whatever it says: no backdated "loaded" history.
    with psycopg.connect(warehouse.conninfo(loader_url)) as conn:
        made = conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, status, started_at)"
            " values ('police__recorded_crime', 'x.csv', repeat('1', 64), 'loading', '2019-01-01')"
            " returning batch_id"
        ).fetchone()[0]
        conn.execute(
            "update audit.load_batch set status = 'loaded', finished_at = '2019-01-02' where batch_id = %s", (made,)
        )
    ((started, finished),) = rows(
        warehouse_url, f"select started_at, finished_at from audit.load_batch where batch_id = {made}"
    )
    assert started.year > 2019 and finished.year > 2019

    # What the loader's own jobs do still works: a quarantined batch is resolved once (`partnership quarantine`).
    quarantine.discard(quarantined)
    with psycopg.connect(warehouse.conninfo(loader_url)) as conn, pytest.raises(DENIED):
        conn.execute("update audit.load_batch set resolution = 'released' where batch_id = %s", (quarantined,))
    # The owner (a person fixing the record, with the superuser) still can.
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("update audit.load_batch set reason = 'checked' where batch_id = %s", (loaded,))


@integration
def test_a_new_intermediate_relation_without_row_security_is_caught(warehouse_url):
    """Whatever makes it, a relation in intermediate is person-level until declared otherwise: a table needs row
    security, a view security_invoker (so its tables' row security applies to the reader)."""
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("set role pw_transformer")  # as dbt would
        conn.execute("create table intermediate.int_new_people as select 'p1' as person_key")
        conn.execute("create view intermediate.int_new_view as select * from intermediate.int_new_people")
        conn.execute("create materialized view intermediate.int_new_matview as select 1 as n")
        assert security.unprotected_person_relations(conn) == [
            "intermediate.int_new_matview",
            "intermediate.int_new_people",
            "intermediate.int_new_view",
        ]
        conn.execute("alter table intermediate.int_new_people enable row level security")
        conn.execute("alter view intermediate.int_new_view set (security_invoker = true)")
        assert security.unprotected_person_relations(conn) == ["intermediate.int_new_matview"]
        # Declared not person-level (aggregates, open data), as the dbt macro protect_person_level_rows does.
        conn.execute(
            sql.SQL("comment on materialized view intermediate.int_new_matview is {}").format(
                sql.Literal(security.NOT_PERSON_LEVEL + ": aggregates")
            )
        )
        assert security.unprotected_person_relations(conn) == []


@integration
def test_every_intermediate_model_is_protected_or_declared_not_person_level(built):
    with warehouse.connect(built) as conn:
        assert security.unprotected_person_relations(conn) == []
        protected = conn.execute(
            "select count(*) filter (where relrowsecurity), count(*) filter (where relkind = 'v') from pg_class"
            " where relnamespace = 'intermediate'::regnamespace and relkind in ('r', 'v')"
        ).fetchone()
    assert protected[0] >= 5 and protected[1] >= 2


@integration
def test_each_service_does_its_job_as_its_login_role(server_url, service_logins, tmp_path, monkeypatch):
    """Load (the loader), dbt build and publish (the transformer), retention (the loader) and the IG report (the
    IG reviewer), each connected as the LOGIN role `partnership warehouse init` made for it."""
    name = f"partnership_svc_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    try:
        monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
        warehouse.init_warehouse(url)
        loader_url, transformer_url, reviewer_url = (
            as_login(url, service_logins[g]) for g in (security.LOADER, security.TRANSFORMER, security.IG_REVIEWER)
        )
        monkeypatch.setenv("WAREHOUSE_URL", loader_url)
        for dataset, paths in generate(months=1, scale=0.1).items():
            for path in paths:
                assert loader.ingest_file(get_dataset(dataset), path).status == "loaded", dataset
        runner.dbt("build", url=transformer_url)
        # Publish reads publish_staging and replaces publish's tables. A month at this scale may be too sparse to
        # protect (that is disclosure control's business, not privileges'), so the writes are made as it makes them.
        with contextlib.suppress(disclosure.DeclarationError):
            publish.protect_publish(transformer_url)
        with warehouse.connect(transformer_url) as conn:
            conn.execute("drop table if exists publish.pub_cohort_overlap")
            conn.execute("create table publish.pub_cohort_overlap (like publish_staging.pub_cohort_overlap)")
            conn.execute("insert into publish.pub_cohort_overlap select * from publish_staging.pub_cohort_overlap")
            conn.execute("grant select on publish.pub_cohort_overlap to pw_analyst")
        with warehouse.connect(transformer_url) as conn:
            assert security.unprotected_person_relations(conn) == []
        deleted = retention.enforce_retention(loader_url, today=date.today() + timedelta(days=365 * 30))
        assert {d.target for d in deleted} >= {"raw.police__recorded_crime", "intermediate.int_crimes_classified"}
        report_page = report.build_report(reviewer_url, tmp_path / "report").read_text()
        assert "police__recorded_crime" in report_page
    finally:
        with psycopg.connect(warehouse.conninfo(server_url), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
