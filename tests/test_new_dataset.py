"""One registry entry adds a dataset: docs/extending.md's fire example, added to a copy of the registry, is synced,
generated, loaded through its own ingest DAG, validated, built into staging and the person-contacts model, and
shown in the IG report and the dbt docs, with no other file edited by hand."""

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import PIPELINE_MONTHS, PIPELINE_SCALE, run_cli

from partnership import runner, settings, warehouse

pytestmark = pytest.mark.integration

FIRE = "fire__firesetter_referrals"
EXAMPLE = settings.PROJECT_ROOT / "docs" / "examples" / f"{FIRE}.yml"


@pytest.fixture
def project_with_fire(tmp_path):
    """A copy of the registry, the dbt project and the GX suites, with the fire entry added to the registry."""
    registry, dbt, expectations = tmp_path / "registry", tmp_path / "dbt", tmp_path / "expectations"
    shutil.copytree(settings.REGISTRY_DIR, registry)
    shutil.copytree(settings.DBT_PROJECT_DIR, dbt, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(settings.EXPECTATIONS_DIR, expectations)
    shutil.copy(EXAMPLE, registry)
    return {
        "PARTNERSHIP_REGISTRY_DIR": str(registry),
        "PARTNERSHIP_DBT_DIR": str(dbt),
        "PARTNERSHIP_EXPECTATIONS_DIR": str(expectations),
    }


def test_a_new_dataset_runs_end_to_end_from_its_registry_entry_alone(pipeline_run_copy, project_with_fire):
    run = pipeline_run_copy  # an existing warehouse, as a partnership onboarding a new partner has one
    env = {**run["env"], **project_with_fire}
    dbt = Path(project_with_fire["PARTNERSHIP_DBT_DIR"])

    synced = run_cli("registry", "sync", env=env)
    assert synced.returncode == 0
    written = {line.removeprefix("wrote ").strip() for line in synced.stdout.splitlines() if line.startswith("wrote")}
    assert written == {
        f"{project_with_fire['PARTNERSHIP_EXPECTATIONS_DIR']}/{FIRE}.json",
        f"{dbt}/models/staging/fire/_fire__sources.yml",
        f"{dbt}/models/staging/fire/stg_{FIRE}.sql",
        f"{dbt}/models/staging/fire/stg_{FIRE}.yml",
        f"{dbt}/models/intermediate/int_person_contacts_unioned.sql",
        f"{dbt}/models/intermediate/_int_person_contacts_unioned.yml",
    }

    # The same months and scale as the warehouse's run: every other extract is byte-identical, skipped by checksum.
    result = run_cli("run", "--months", str(PIPELINE_MONTHS), "--scale", str(PIPELINE_SCALE), env=env)
    assert result.returncode == 0, "the run with the new dataset failed; its output is above"
    assert f"ingest_{FIRE}: success" in result.stdout

    with psycopg.connect(warehouse.conninfo(run["url"])) as conn:
        batches = conn.execute(
            "select status, count(*), sum(row_count) from audit.load_batch where dataset = %s group by status",
            (FIRE,),
        ).fetchall()
        assert [(status, files) for status, files, _ in batches] == [("loaded", PIPELINE_MONTHS)]
        loaded = batches[0][2]
        assert loaded == conn.execute(f"select count(*) from staging.stg_{FIRE}").fetchone()[0] > 0
        contacts = conn.execute(
            """select count(*), count(distinct person_key), min(age_at_contact), max(age_at_contact)
               from intermediate.int_person_contacts_unioned
               where agency = 'fire' and contact_type = 'fire_firesetter_referral'"""
        ).fetchone()
        assert contacts[0] == loaded and 5 <= contacts[2] <= contacts[3] <= 17
        # The children are the shared population's: some are known to education or youth justice too.
        linked = conn.execute(
            """select count(*) from intermediate.int_people_linked p
               where p.agency_count > 1 and exists (
                   select 1 from intermediate.int_person_contacts_unioned c
                   where c.person_key = p.person_key and c.agency = 'fire')"""
        ).fetchone()[0]
        assert linked > 0
        # Other agencies' data is as it was: the cohort is the strategy's four sources, fire is not in it.
        assert not conn.execute(
            "select count(*) from intermediate.int_cohort_contacts where agency = 'fire'"
        ).fetchone()[0]

    ig_report = (run["data"] / "reports" / "ig" / "index.html").read_text()
    assert FIRE in ig_report and "MCSP-DSA-020" in ig_report
    # The person-contacts model's unit test is generated with it: the fire row is among its inputs and outputs.
    unit = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "test", "--select", "int_person_contacts_unioned,test_type:unit"],
        cwd=dbt,
        env={**env, **runner.dbt_environment(run["url"]), "DBT_PROFILES_DIR": str(dbt)},
        capture_output=True,
        text=True,
    )
    assert unit.returncode == 0, unit.stdout[-3000:]
    generated_yml = dbt / "models" / "intermediate" / "_int_person_contacts_unioned.yml"
    assert "fire_firesetter_referral_person" in generated_yml.read_text()

    manifest = (dbt / "target" / "manifest.json").read_text()
    assert f"model.partnership.stg_{FIRE}" in manifest and "source.partnership.fire.firesetter_referrals" in manifest
