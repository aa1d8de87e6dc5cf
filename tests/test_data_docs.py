"""GX Data Docs: every validated file leaves a result that GX renders into data_docs/, without row values."""

import csv
import re

import pytest

from partnership import settings, validation
from partnership.demo import defects
from partnership.demo.generator import generate
from partnership.registry import get_dataset


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    """Data Docs after validating a good police file and a faulty one (an unknown crime type)."""
    tmp_path = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
        yield _validate_good_and_faulty(tmp_path, get_dataset("police__recorded_crime"))


def _validate_good_and_faulty(tmp_path, crimes):
    files = generate(tmp_path / "landing", months=1, scale=0.2)["police__recorded_crime"]
    good = files[0]
    bad = good.with_name("recorded_crime_faulty_2024-04.csv")
    bad.write_bytes(good.read_bytes())
    defects.inject(crimes, bad, "unknown_code")
    with open(bad, newline="") as f:
        codes = [row["crime_type"] for row in csv.DictReader(f)]
    (planted,) = set(codes) - set(crimes.column("crime_type").allowed)

    good_report = validation.validate_file(crimes, good)
    assert good_report.success
    warnings = sum(not c.success for c in good_report.checks)  # warning-level only: the file passed
    report = validation.validate_file(crimes, bad)
    assert [(c.column, c.expectation) for c in report.failures] == [("crime_type", "expect_column_values_to_be_in_set")]
    validation.build_data_docs_index()  # as the IG report does
    return settings.data_dir() / "data_docs", good.name, bad.name, planted, warnings


def test_index_lists_the_suite_and_both_files(docs):
    folder, good, bad, _, _ = docs
    index = (folder / "index.html").read_text()
    assert "police__recorded_crime" in index
    assert (folder / "expectations" / "police__recorded_crime.html").exists()
    assert good in index and bad in index


def test_a_file_gets_its_page_as_it_is_validated_and_joins_the_index_when_the_ig_report_rebuilds_it(
    data_dir, crimes, tmp_path
):
    """The index reads every kept result, so the gate does not rebuild it for each file (its cost grew with the
    history); the IG report, run when a delivery settles or a file is quarantined, does."""
    (path,) = generate(tmp_path / "landing", months=1, scale=0.1)["police__recorded_crime"]
    assert validation.validate_file(crimes, path).success
    folder = data_dir / "data_docs"
    assert [p.name for p in (folder / "validations").rglob("*.html")] == [path.name + ".html"]
    assert not (folder / "index.html").exists()

    assert validation.build_data_docs_index() == folder / "index.html"
    assert path.name in (folder / "index.html").read_text()


def test_the_index_is_not_built_before_any_file_is_validated(data_dir):
    assert validation.build_data_docs_index() is None
    assert not (data_dir / "data_docs").exists()


def test_the_faulty_file_has_a_page_showing_the_failed_expectation(docs):
    folder, good, bad, _, warnings = docs
    pages = {p.name: _text(p.read_text()) for p in (folder / "validations" / "police__recorded_crime").rglob("*.html")}
    assert set(pages) == {good + ".html", bad + ".html"}
    assert "Status: Failed" in pages[bad + ".html"]

    # A good file can still fail a warning-level expectation (historic offence dates load with a warning; GX then
    # shows the run as failed): the page lists exactly those, and the faulty file one more, its crime type.
    def unsuccessful(page):
        return int(re.search(r"Unsuccessful Expectations (\d+) ", page).group(1))

    assert unsuccessful(pages[good + ".html"]) == warnings
    assert ("Status: Succeeded" in pages[good + ".html"]) == (warnings == 0)
    assert unsuccessful(pages[bad + ".html"]) == warnings + 1


def test_no_row_value_reaches_the_docs_or_the_stored_results(docs):
    folder, _, _, planted, _ = docs
    written = [p for root in (folder, folder.parent / "gx") for p in root.rglob("*") if p.suffix in (".html", ".json")]
    assert written
    for path in written:
        assert planted not in path.read_text(), path


def test_a_second_file_in_the_process_renders_its_pages_without_compiling_gx_templates_again(
    data_dir, crimes, tmp_path, monkeypatch
):
    """GX makes a Jinja environment per page; the gate's view shares the process's compiled templates, so a
    process validating many files (`partnership run`) compiles them once (they were 0.17 s of each file)."""
    import jinja2

    first, second = generate(tmp_path / "landing", months=2, scale=0.1)["police__recorded_crime"]
    assert validation.validate_file(crimes, first).success
    compiled = []
    original = jinja2.Environment.compile

    def compile_and_count(env, *args, **kwargs):
        compiled.append(args)
        return original(env, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_and_count)
    assert validation.validate_file(crimes, second).success
    assert any((data_dir / "data_docs" / "validations").rglob(second.name + ".html"))
    assert compiled == []


def test_a_files_pages_are_the_ones_gx_renders_and_cost_the_same_however_many_results_are_kept(
    data_dir, crimes, tmp_path, monkeypatch
):
    """The gate renders a file's two pages itself: GX's SiteBuilder lists every result ever kept to find them.
    The pages must be byte for byte what GX's own incremental build writes, and no store is listed on the way."""
    from great_expectations.data_context.store.store import Store
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    from partnership.validation import docs as gx_docs
    from partnership.validation.run import _gx_context

    first, second = generate(tmp_path / "landing", months=2, scale=0.1)["police__recorded_crime"]
    assert validation.validate_file(crimes, first).success
    listed = []
    original_list_keys = Store.list_keys
    with monkeypatch.context() as patch:
        patch.setattr(Store, "list_keys", lambda store: listed.append(store) or original_list_keys(store))
        assert validation.validate_file(crimes, second).success
    assert listed == []

    folder = data_dir / "data_docs"
    suite_page = folder / "expectations" / "police__recorded_crime.html"
    (result_page,) = (folder / "validations").rglob(second.name + ".html")
    ours = {page: _without_render_time(page) for page in (suite_page, result_page)}
    for page in ours:
        page.unlink()

    _, context = _gx_context()
    builder = gx_docs._site_builder(context)
    result_keys = [k for k in context.stores["docs_validations"].list_keys() if k.batch_identifier == second.name]
    builder.build(resource_identifiers=[ExpectationSuiteIdentifier(name=crimes.name), *result_keys], build_index=False)
    assert {page: _without_render_time(page) for page in ours} == ours


def _without_render_time(page) -> str:
    """A page's HTML less the one thing that differs each time GX renders it: a time stamp on its logo's URL."""
    return re.sub(r"logo-long\.png\?d=[0-9TZ.]+", "logo-long.png", page.read_text())


def test_the_suite_page_is_rendered_once_a_suite_and_again_when_it_is_missing_or_the_suite_changed(
    data_dir, crimes, tmp_path, monkeypatch
):
    """A delivery's files share their dataset's suite: its page is stored and rendered for the first file only,
    but never left missing or stale."""
    from partnership.validation import run

    first, second, third, fourth, fifth = generate(tmp_path / "landing", months=5, scale=0.1)["police__recorded_crime"]
    suite_page = data_dir / "data_docs" / "expectations" / "police__recorded_crime.html"
    spec = run.read_suite(crimes)
    assert validation.validate_file(crimes, first).success
    rendered = suite_page.stat().st_mtime_ns
    assert validation.validate_file(crimes, second).success
    assert suite_page.stat().st_mtime_ns == rendered

    suite_page.unlink()
    assert validation.validate_file(crimes, third).success
    assert _expectations_on(suite_page) == len(spec["expectations"])

    suite_page.write_text("Another process's page: This Expectation suite currently contains 1 total Expectations")
    assert validation.validate_file(crimes, fifth).success
    assert _expectations_on(suite_page) == len(spec["expectations"])

    fewer = {**spec, "expectations": spec["expectations"][1:]}
    monkeypatch.setattr(run, "read_suite", lambda ds: fewer)
    assert validation.validate_file(crimes, fourth).success
    assert _expectations_on(suite_page) == len(spec["expectations"]) - 1


def _expectations_on(suite_page) -> int:
    return int(re.search(r"contains (\d+) total Expectations", _text(suite_page.read_text())).group(1))
