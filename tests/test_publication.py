"""Publication is enforced from the registry: no publish model or exposure uses a dataset beyond what its registry
entry allows. The real dbt project passes; hand-made manifests and changed permissions show the check fails."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from partnership import cli, publication
from partnership.registry import Dataset, Publication, load_registry

PREFIX = "model.partnership."


@pytest.fixture(scope="module")
def manifest(dbt_manifest):
    return json.loads(dbt_manifest.read_text())


def with_level(name: str, level: str, clause: str | None = None) -> tuple[Dataset, ...]:
    """The real registry with one dataset's permission changed."""
    return tuple(
        dataclasses.replace(ds, publication=Publication(level, clause)) if ds.name == name else ds
        for ds in load_registry()
    )


# -- the real project ----------------------------------------------------------------------------------------


def test_the_real_manifest_has_no_violations(manifest):
    assert publication.violations(manifest) == []


def test_the_real_exposures_keep_their_readers(manifest):
    exposures = manifest["exposures"]
    board = exposures["exposure.partnership.csp_quarterly_report"]
    scrutiny = exposures["exposure.partnership.scrutiny_committee_update"]
    assert board["meta"]["audience_level"] == "partnership"
    assert scrutiny["meta"]["audience_level"] == "public"
    # The Core Group's report keeps GMP's tables; the public update keeps what may be published.
    assert PREFIX + "pub_crimes_by_ward_quarter" in board["depends_on"]["nodes"]
    assert PREFIX + "pub_crimes_by_ward_quarter" not in scrutiny["depends_on"]["nodes"]
    assert PREFIX + "pub_victim_based_crime_share" in scrutiny["depends_on"]["nodes"]


def test_gmp_crime_is_for_the_partnership_not_the_public():
    crime = next(ds for ds in load_registry() if ds.name == "police__recorded_crime")
    assert crime.publication.aggregates == "partnership"
    assert "MCSP-DSA-001" in crime.publication.clause


def test_putting_gmp_crime_back_in_the_public_update_is_a_violation(manifest):
    bad = copy.deepcopy(manifest)
    bad["exposures"]["exposure.partnership.scrutiny_committee_update"]["depends_on"]["nodes"].append(
        PREFIX + "pub_crimes_by_ward_quarter"
    )
    (message,) = publication.violations(bad)
    assert "public exposure scrutiny_committee_update" in message
    assert "pub_crimes_by_ward_quarter" in message
    assert "police__recorded_crime (registry publication: partnership" in message


def test_withdrawing_a_permission_fails_the_publish_models_and_reports_built_on_it(manifest):
    found = publication.violations(manifest, with_level("youth_justice__cases", "none"))
    assert any(m.startswith("publish model pub_youth_justice_fte is built from youth_justice__cases") for m in found)
    assert any(
        m.startswith("partnership exposure csp_quarterly_report reads publish model pub_youth_justice_fte")
        for m in found
    )
    assert not any("pub_asb_requests_by_month" in m for m in found)  # council data is untouched
    # The Board's internal dashboard reads marts directly: allowed, even when they draw on the dataset.
    assert not any("csp_board_scorecard" in m for m in found)


def test_narrowing_a_public_source_to_the_partnership_fails_the_public_update(manifest):
    found = publication.violations(manifest, with_level("police_uk__street_crime", "partnership", "x"))
    assert found and all("public exposure scrutiny_committee_update" in m for m in found)
    assert any("pub_victim_based_crime_share" in m and "police_uk__street_crime" in m for m in found)


def test_registry_check_fails_on_a_violation(manifest, monkeypatch, capsys):
    assert cli.main(["registry", "check"]) == 0
    monkeypatch.setattr(publication, "load_registry", lambda: with_level("police__recorded_crime", "none"))
    assert cli.main(["registry", "check"]) == 1
    out = capsys.readouterr().out
    assert (
        "publication not allowed: publish model pub_crimes_by_ward_quarter is built from police__recorded_crime" in out
    )


# -- a small hand-made manifest ------------------------------------------------------------------------------


def dataset(name: str, level: str) -> Dataset:
    agency, name_ = name.split("__")
    return Dataset(
        agency=agency,
        dataset=name_,
        description="",
        landing_pattern="*.csv",
        cadence="monthly",
        record_date_column="day",
        key_columns=(),
        lawful_basis="x",
        sharing_agreement="DSA-1 (agency)",
        retention_months=12,
        publication=Publication(level, None if level == "none" else "DSA-1: as it says"),
    )


DATASETS = (
    dataset("agency__secret", "none"),
    dataset("agency__board", "partnership"),
    dataset("agency__open", "public"),
)


def source(table: str) -> tuple[str, dict]:
    agency, name = table.split("__")
    uid = f"source.p.{agency}.{name}"
    return uid, {"unique_id": uid, "source_name": agency, "name": name, "identifier": table, "schema": "raw"}


def model(name: str, folder: str, *parents: str) -> tuple[str, dict]:
    uid = f"model.p.{name}"
    schema = "publish" if folder == "publish" else "marts"
    node = {"resource_type": "model", "name": name, "fqn": ["p", folder, name], "schema": schema}
    return uid, {**node, "depends_on": {"nodes": list(parents)}}


def exposure(name: str, level: str | None, *parents: str) -> tuple[str, dict]:
    meta = {"audience_level": level} if level else {}
    return f"exposure.p.{name}", {
        "name": name,
        "meta": meta,
        "config": {"meta": meta},
        "depends_on": {"nodes": list(parents)},
    }


def small_manifest(*exposures: tuple[str, dict]) -> dict:
    sources = dict(source(t) for t in ("agency__secret", "agency__board", "agency__open"))
    nodes = dict(
        [
            model("stg_secret", "staging", "source.p.agency.secret"),
            model("fct_secret", "marts", "model.p.stg_secret"),
            model("pub_secret", "publish", "model.p.fct_secret"),  # two steps away from its source
            model("pub_board", "publish", "source.p.agency.board", "source.p.agency.open"),
            model("pub_open", "publish", "source.p.agency.open"),
        ]
    )
    return {"nodes": nodes, "sources": sources, "exposures": dict(exposures)}


def test_a_publish_model_built_from_a_none_source_is_a_violation():
    (message,) = publication.violations(small_manifest(), DATASETS)
    assert message.startswith("publish model pub_secret is built from agency__secret (registry publication: none")
    assert "take the model out of publish" in message


def test_a_public_exposure_on_a_partnership_source_is_a_violation():
    found = publication.violations(
        small_manifest(exposure("paper", "public", "model.p.pub_board", "model.p.pub_open")), DATASETS
    )
    exposure_messages = [m for m in found if "paper" in m]
    assert len(exposure_messages) == 1  # pub_open is fine; pub_board's open source is fine too
    assert "public exposure paper reads pub_board, built from agency__board" in exposure_messages[0]
    assert "partnership" in exposure_messages[0] and "needs a public permission" in exposure_messages[0]


def test_the_same_tables_are_allowed_to_the_partnership():
    found = publication.violations(
        small_manifest(exposure("board", "partnership", "model.p.pub_board", "model.p.fct_secret")), DATASETS
    )
    (message,) = found  # only pub_secret's own violation: the exposure does not read it
    assert message.startswith("publish model pub_secret ")


def test_a_partnership_exposure_on_a_publish_model_built_from_a_none_source_is_a_violation():
    found = publication.violations(small_manifest(exposure("board", "partnership", "model.p.pub_secret")), DATASETS)
    assert any(
        m.startswith("partnership exposure board reads publish model pub_secret, built from agency__secret")
        for m in found
    )


def test_a_public_exposure_reading_a_mart_and_an_exposure_without_an_audience_are_violations():
    found = publication.violations(
        small_manifest(
            exposure("paper", "public", "model.p.fct_secret"), exposure("mystery", None, "model.p.pub_open")
        ),
        DATASETS,
    )
    assert any("public exposure paper reads fct_secret, which is not in publish" in m for m in found)
    assert any("public exposure paper reads fct_secret, built from agency__secret" in m for m in found)
    assert any(m.startswith("exposure mystery has meta.audience_level None") for m in found)


def test_a_publish_model_on_a_source_missing_from_the_registry_is_a_violation():
    bad = small_manifest()
    uid, node = source("agency__unknown")
    bad["sources"][uid] = node
    bad["nodes"]["model.p.pub_open"]["depends_on"]["nodes"].append(uid)
    found = publication.violations(bad, DATASETS)
    assert any("pub_open is built from source agency.unknown, which has no registry entry" in m for m in found)


@pytest.mark.parametrize(
    ("level", "audience", "allowed"),
    [
        ("none", "partnership", False),
        ("partnership", "partnership", True),
        ("partnership", "public", False),
        ("public", "public", True),
        ("public", "partnership", True),
    ],
)
def test_levels_are_ordered(level, audience, allowed):
    assert Publication(level, "c").allows(audience) is allowed


def test_the_ig_register_shows_each_level_and_its_clause(tmp_path):
    from markupsafe import escape

    from partnership import report

    html = report.render(report.Audit(load_registry()), out_dir=tmp_path, where="test", latest=None)
    register = html[html.index('<table id="register">') :].split("</table>")[0]
    for ds in load_registry():
        row = register[register.index(f'<tr data-dataset="{ds.name}">') :].split("</tr>")[0]
        assert f'data-publication="{ds.publication.aggregates}"><b>{ds.publication.aggregates}</b>' in row
        assert escape(ds.publication.clause) in row
