"""The Board's quarterly report: built from the publish schema only, rendered in headless Chromium (screenshots of
its first two pages are kept in tests/artifacts), printed to PDF, and built again for another quarter.

The integration tests read the shared pipeline run (6 months from 2024-04: quarters 2024/25 Q1 and Q2) and
build the report as a LOGIN role that is a member of pw_board_reporter and nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import psycopg
import pypdf
import pytest
from PIL import Image
from rendered_page import Page

from partnership import chromium, warehouse
from partnership.board_report import build, cells, charts, content, figures, render, spc
from partnership.board_report.cells import Cell, SmallCountShown, Table
from partnership.board_report.publish_data import Quarter

ARTIFACTS = Path(__file__).parent / "artifacts"
A4_PIXELS = (794, 1123)  # an A4 page at 96 dpi, as Chromium prints it


# -- fast: no database ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2024/25-Q3", "2024/25 Q3", " 2024/25-Q3 "])
def test_a_quarter_is_read_as_the_board_writes_it(text):
    quarter = Quarter.parse(text)
    assert (quarter.label, quarter.slug, quarter.months) == (
        "2024/25 Q3",
        "2024-25-Q3",
        ("2024-10", "2024-11", "2024-12"),
    )
    assert quarter.span == "October to December 2024"
    assert quarter.days == (date(2024, 10, 1), date(2024, 12, 31))
    assert Quarter.parse("2024/25-Q1").previous() == Quarter.parse("2023/24-Q4")


@pytest.mark.parametrize("text", ["2024-Q3", "2024/26-Q3", "2024/25-Q5", "Q3 2024/25", ""])
def test_a_quarter_the_report_cannot_read_is_refused_with_the_expected_form(text):
    with pytest.raises(ValueError, match="such as 2024/25-Q3"):
        Quarter.parse(text)


def test_a_suppressed_count_shows_as_a_star_and_an_unsuppressed_small_count_stops_the_report():
    assert cells.count({"people": None, "people_suppressed": True}, "people") == Cell("*", "count", True)
    assert cells.count({"people": 0, "people_suppressed": False}, "people").text == "0"
    assert cells.count({"people": 1234, "people_suppressed": False}, "people").text == "1,234"
    # A rate built on a suppressed count is null in publish: "*", not "no data".
    assert cells.figure({"rate": None, "people_suppressed": True}, "rate").text == "*"
    assert cells.figure({"rate": None, "people_suppressed": False}, "rate").text == cells.NOT_AVAILABLE
    # The attack: a small count that reached publish unmarked (a hand edit, an undeclared table) is never shown.
    with pytest.raises(SmallCountShown, match="people is from 1 to 9") as raised:
        cells.count({"ward": "Ardwick", "people": 4, "people_suppressed": False}, "people")
    assert "4" not in str(raised.value), "the error names the row, not the count it refused to show"


@pytest.mark.parametrize(
    "row, shown",
    [
        # A KPI that counts (permanent exclusions): its value is its numerator, a small one is a small count.
        ({"unit": "count", "value": 4, "numerator": 4, "numerator_suppressed": False}, lambda r: cells.kpi_value(r)),
        # A rate left in a row whose count is suppressed would give the count back (rate x population).
        (
            {"unit": "per 1000", "value": 0.4, "numerator": None, "numerator_suppressed": True},
            lambda r: cells.kpi_value(r),
        ),
        (
            {"sv_count": None, "sv_count_suppressed": True, "rate": 61.2},
            lambda r: cells.figure(r, "rate", built_on=("sv_count",)),
        ),
        (
            {"records": None, "records_suppressed": True, "lo": 0.5, "hi": 1.5},
            lambda r: cells.interval(r, "lo", "hi", built_on=("records",)),
        ),
    ],
)
def test_a_figure_that_would_give_a_suppressed_count_back_stops_the_report(row, shown):
    """The reviewer's attacks on the second line of defence: figures that bypassed the count check."""
    with pytest.raises(SmallCountShown):
        shown(row)


def test_a_label_with_dollar_signs_is_text_not_mathematics():
    svg = charts.interval_chart("c", "Costs $5 to $10", "alt", [charts.Point("$\\foo$", 1.0)], "x")
    assert "$\\foo$" in svg


def _quarters(values, baseline, statuses=None):
    labels = [
        "2021/22 Q2",
        "2021/22 Q3",
        "2021/22 Q4",
        "2022/23 Q1",
        "2022/23 Q2",
        "2022/23 Q3",
        "2022/23 Q4",
        "2023/24 Q1",
        "2023/24 Q2",
        "2023/24 Q3",
    ]
    statuses = statuses or {}
    return [
        {
            "financial_year_quarter": q,
            "value": v,
            "is_baseline": q in baseline,
            "is_seasonally_adjusted": False,
            "data_quality_status": statuses.get(q, "Passed"),
        }
        for q, v in zip(labels, values, strict=True)
    ]


BASELINE = {"2021/22 Q3", "2021/22 Q4", "2022/23 Q2", "2022/23 Q3", "2022/23 Q4", "2023/24 Q1"}


def test_the_limits_drawn_from_published_values_are_the_scorecards():
    """The dbt unit test scorecard_spc_stable_series_is_common_cause, from the published side: the same series
    gives the same centre line and limits (100.67, 87.37 to 113.97), the anomalous quarter left out of the
    moving ranges."""
    history = _quarters([101, 100, 104, 50, 98, 102, 97, 103, 101, 99], BASELINE, {"2022/23 Q1": "Volume anomaly"})
    chart = spc.control_chart(history)
    assert chart.limits["2023/24 Q3"] == spc.Limits(100.67, 87.37, 113.97)
    assert chart.baseline_points == 6 and not chart.reason


def test_no_limits_are_drawn_when_a_baseline_value_is_suppressed_or_the_baseline_is_short():
    """The attack the publish table guards against: the centre line is the mean of the baseline, so drawn beside
    a suppressed baseline value it would give that value back. The report draws none then."""
    history = _quarters([101, 100, 104, 50, 98, None, 97, 103, 101, 99], BASELINE, {"2022/23 Q1": "Volume anomaly"})
    chart = spc.control_chart(history)
    assert chart.limits == {} and "suppressed" in chart.reason
    short = spc.control_chart(_quarters([101, 100, 104, 50, 98, 102, 97, 103, 101, 99], set(list(BASELINE)[:4])))
    assert short.limits == {} and short.reason == "not drawn: no baseline yet (it needs 6 clean quarters)"


def test_a_chart_is_labelled_svg_with_its_own_ids_and_no_suppressed_value():
    points = [charts.Point("Q1", 5.0, 4.0, 6.0), charts.Point("Q2", None, suppressed=True), charts.Point("Q3", 7.5)]
    one = charts.trend_chart("trend-a", "Rate & trend", "Alt text.", points, "per 1,000")
    two = charts.trend_chart("trend-b", "Another", "Alt.", points, "per 1,000")
    assert one.startswith('<svg role="img" aria-labelledby="trend-a-title trend-a-desc"')
    assert '<title id="trend-a-title">Rate &amp; trend</title>' in one
    ids_one, ids_two = set(re.findall(r'\bid="([^"]+)"', one)), set(re.findall(r'\bid="([^"]+)"', two))
    assert ids_one and not ids_one & ids_two, "two charts on one page share no id"
    assert "Q2 *" in one, "the suppressed quarter is marked on the axis"
    assert "<script" not in one and "http://" not in one.replace("http://www.w3.org/", "")


def test_text_from_the_warehouse_is_escaped_in_the_page():
    row = {
        "kpi_code": "X",
        "priority_code": "P1",
        "kpi_name": "<script>alert(1)</script>",
        "financial_year_quarter": "2024/25 Q3",
        "numerator": 120,
        "numerator_suppressed": False,
        "value": 1.5,
        "lower_95": 1.2,
        "upper_95": 1.8,
        "unit": "per 1000 residents",
        "rating": "No baseline",
        "variation": "No baseline",
        "definition_version": "V1",
        "data_quality_status": "Passed",
    }
    scorecard, notes = content.scorecard([row], Quarter.parse("2024/25-Q3"), {"X": spc.control_chart([row])})
    report = build.Report(
        quarter=Quarter.parse("2024/25-Q3"),
        built_at="now",
        judged_on=None,
        scorecard=scorecard,
        scorecard_notes=notes,
        sections=[],
        extracts=Table("extracts", "Extracts", ["Dataset"]),
        definitions=Table("definitions", "Definitions", ["KPI"]),
        withheld=[],
    )
    page = render.html_page(report)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- integration: the shared pipeline run ---------------------------------------------------------------------


@pytest.fixture
def board_url(pipeline_run, login_role):
    """A LOGIN role that is a member of pw_board_reporter only, as the board_report DAG's connection is."""
    return login_role(pipeline_run["url"], "pw_board_reporter")[1]


@pytest.mark.integration
def test_the_report_renders_with_its_map_charts_tables_and_a_pdf_page_per_priority(board_url, tmp_path):
    report = build.build(board_url, None, tmp_path / "report")
    assert report.quarter.label == "2024/25 Q2", "by default, the latest quarter the scorecard has"
    html, pdf = report.files["html"], report.files["pdf"]

    # What Chromium rendered: its DOM (no script on the page, so it is the file as parsed) and two A4 screenshots.
    page = Page()
    page.feed(chromium.run("--dump-dom", html.resolve().as_uri()).stdout)
    elements = page.elements
    ARTIFACTS.mkdir(exist_ok=True)
    shot = tmp_path / "pages.png"
    chromium.run(f"--screenshot={shot}", f"--window-size={A4_PIXELS[0]},{2 * A4_PIXELS[1]}", html.resolve().as_uri())
    with Image.open(shot) as image:
        for number in (1, 2):
            path = ARTIFACTS / f"board_report_page{number}.png"
            image.crop((0, (number - 1) * A4_PIXELS[1], A4_PIXELS[0], number * A4_PIXELS[1])).save(path)
            print(f"screenshot: {path}")

    maps = page.find(**{"data-chart": "map"})
    assert {m["attrs"]["id"] for m in maps} == {"map-asb", "map-serious-violence"}
    for ward_map in maps:
        wards = [
            e
            for e in elements
            if e["tag"] == "path" and e["attrs"].get("class") == "ward" and ward_map["attrs"]["id"] in e["in"]
        ]
        assert len(wards) == 32 and len({w["attrs"]["data-ward-code"] for w in wards}) == 32
        assert all(w["attrs"].get("fill") for w in wards), "every ward has a fill: a colour, hatching or no-data grey"

    figures = [e for e in elements if e["tag"] == "figure"]
    assert len(figures) >= 12
    for figure in figures:
        fid = figure["attrs"]["id"]
        titles = [e for e in elements if e["tag"] == "title" and fid in e["in"] and "svg" in e["parents"]]
        assert titles and titles[0]["text"].strip(), f"{fid}: the chart has no title"
        rows = [e for e in elements if e["tag"] == "tr" and "tbody" in e["parents"] and fid in e["in"]]
        assert rows, f"{fid}: the data table behind the chart is empty"

    counts = page.find(**{"data-kind": "count"})
    assert counts, "the report shows counts"
    shown = [c["text"].strip() for c in counts]
    assert not [t for t in shown if t.replace(",", "").isdigit() and 1 <= int(t.replace(",", "")) <= 9]
    assert "*" in shown, "some counts are suppressed at this scale, and show as *"
    assert page.find(id="suppression-footnote")[0]["text"].startswith("* Suppressed by disclosure control")

    # NFKC: the PDF's text has ligatures ("oﬀender").
    pages = [unicodedata.normalize("NFKC", page.extract_text()) for page in pypdf.PdfReader(pdf).pages]
    for code, title in content.PRIORITIES.items():
        starts = [i for i, text in enumerate(pages) if text.lstrip().startswith(f"{code}. {title}")]
        assert starts, f"no PDF page starts the section {code}. {title}"
    assert len(pages) >= 1 + len(content.PRIORITIES) + 1, "a scorecard page, a page per priority, the annex"


@pytest.mark.integration
def test_the_report_is_built_again_for_another_quarter_without_code_changes(board_url, tmp_path):
    first = build.build(board_url, "2024/25-Q1", tmp_path / "q1")
    second = build.build(board_url, "2024/25-Q2", tmp_path / "q2")
    first_page, second_page = first.files["html"].read_text(), second.files["html"].read_text()
    assert "Scorecard, 2024/25 Q1" in first_page and "Scorecard, 2024/25 Q2" in second_page
    assert "April to June 2024" in first_page and "July to September 2024" in second_page
    assert first.scorecard.rows != second.scorecard.rows, "each quarter's own figures"
    with pytest.raises(LookupError, match="no published figures for 2019/20 Q1"):
        build.build(board_url, "2019/20-Q1", tmp_path / "none")


@pytest.mark.integration
@pytest.mark.parametrize(
    "relation",
    [
        "marts.fct_partnership_scorecard",
        "intermediate.int_people_linked",
        "raw.police__recorded_crime",
        "staging.stg_police__recorded_crime",
        "publish_staging.pub_partnership_scorecard",
        "audit.load_batch",
    ],
)
def test_the_report_role_cannot_read_beyond_the_publish_schema(board_url, relation):
    with warehouse.connect(board_url) as conn:
        assert conn.execute("select count(*) from publish.pub_partnership_scorecard").fetchone()[0] > 0
        assert conn.execute("select count(*) from audit.gate_outcomes()").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select 1 from {relation} limit 1")


@pytest.mark.integration
def test_the_report_role_cannot_list_record_dates(board_url):
    """A rare dataset's record days are its counts (one day per record): the report judges delivery by file."""
    with warehouse.connect(board_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from audit.delivered_dates('council__asb_case_reviews', true, '2000')")


@pytest.mark.integration
def test_a_login_that_cannot_act_as_the_report_role_is_refused(pipeline_run, login_role, tmp_path):
    _, analyst = login_role(pipeline_run["url"], "pw_analyst")
    with pytest.raises(PermissionError, match="grant pw_board_reporter to"):
        build.build(analyst, None, tmp_path)
    assert not list(tmp_path.iterdir()), "nothing written"


def test_a_trend_is_drawn_against_the_same_quarters_of_2019_20_where_published():
    def row(quarter, value, numerator):
        return {
            "kpi_code": "VBC",
            "kpi_name": "Victim-based crime",
            "unit": "per 1000 residents",
            "financial_year_quarter": quarter,
            "value": value,
            "lower_95": value - 0.1,
            "upper_95": value + 0.1,
            "numerator": numerator,
            "numerator_suppressed": False,
            "rating": "No baseline",
            "data_quality_status": "Passed",
        }

    history = [row("2024/25 Q1", 4.75, 2623), row("2024/25 Q2", 3.53, 1951)]
    before = {"Q1": {**row("", 5.10, 2815), "quarter": "Q1"}}  # 2019/20 Q1 only: Q2 not published
    figure = figures.trend_figure("VBC", history, before, spc.control_chart(history))
    assert "Same quarter of 2019/20" in figure.svg and "pre-pandemic" not in figure.caption
    assert [r[-1].text for r in figure.table.rows] == ["5.10", cells.NOT_AVAILABLE]
    without = figures.trend_figure("VBC", history, {}, spc.control_chart(history))
    assert "Same quarter of 2019/20" not in without.svg and "No 2019/20 figure is published" in without.caption
