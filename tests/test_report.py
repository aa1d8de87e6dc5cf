"""The IG data-quality report, rendered in headless Chromium (Debian's chromium package; `make test` installs it):
the figures on the rendered page must be the warehouse's, and a screenshot is kept as an artefact."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg import sql
from rendered_page import Page

from partnership import chromium, cli, loader, warehouse
from partnership.demo.defects import inject
from partnership.demo.generator import generate
from partnership.registry import get_dataset, load_registry

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).parent / "artifacts"
MONTHS = ["2024-04", "2024-05", "2024-06"]


def number(text: str) -> int:
    return int(text.strip().replace(",", ""))


@pytest.fixture
def loaded_warehouse(warehouse_url, data_dir):
    """Three months of two police datasets and youth justice cases; one youth justice file made bad."""
    files = generate(data_dir / "landing", months=len(MONTHS), scale=0.3)
    names = ["police__recorded_crime", "police__asb_incidents", "youth_justice__cases"]
    bad = files["youth_justice__cases"][1]
    inject(get_dataset("youth_justice__cases"), bad, "unknown_code")
    for name in names:
        for path in files[name]:
            if path == bad:
                with pytest.raises(loader.QuarantinedFile):
                    loader.ingest_file(get_dataset(name), path)
            else:
                assert loader.ingest_file(get_dataset(name), path).status == "loaded"
    return {"url": warehouse_url, "names": names, "bad": bad}


def test_report_renders_in_chromium_with_the_warehouse_figures(loaded_warehouse, data_dir, tmp_path, capsys):
    url = loaded_warehouse["url"]
    out = tmp_path / "report"
    assert cli.main(["report", "--out", str(out)]) == 0
    index = Path(capsys.readouterr().out.strip())
    assert index == out / "index.html" and index.exists()
    source = index.read_text()
    assert "<script" not in source and "http://" not in source.replace("http://www.w3.org/2000/svg", "")

    dom = chromium.run("--dump-dom", index.as_uri()).stdout
    page = Page()
    page.feed(dom)

    with warehouse.connect(url) as conn:
        held = {
            ds.name: conn.execute(sql.SQL("select count(*) from raw.{}").format(sql.Identifier(ds.name))).fetchone()[0]
            for ds in load_registry()
        }
        (reason,) = conn.execute("select reason from audit.load_batch where status = 'quarantined'").fetchone()
        values = [
            r[0] for r in conn.execute("select crime_reference from raw.police__recorded_crime limit 50").fetchall()
        ]

    # (a) the source register: every dataset, with the rows the warehouse holds and the audit says were loaded
    for name, rows in held.items():
        (cell,) = page.find(**{"data-metric": "rows-held", "data-dataset": name})
        assert number(cell["text"]) == rows, name
        (cell,) = page.find(**{"data-metric": "rows-loaded", "data-dataset": name})
        assert number(cell["text"]) == rows, name
    assert all(held[n] > 0 for n in loaded_warehouse["names"])
    (quarantined,) = page.find(**{"data-metric": "quarantined", "data-dataset": "youth_justice__cases"})
    assert number(quarantined["text"]) == 1
    (files,) = page.find(**{"data-metric": "files-loaded", "data-dataset": "youth_justice__cases"})
    assert number(files["text"]) == len(MONTHS) - 1
    register_text = next(el for el in page.elements if el["attrs"].get("id") == "register")["text"]
    assert "Crime and Disorder Act 1998" in register_text and "MCSP-DSA-001" in register_text

    # (c) the quarantined file and its reason
    (file_cell,) = page.find(**{"data-metric": "quarantined-file"})
    assert file_cell["text"] == loaded_warehouse["bad"].name
    (reason_cell,) = page.find(**{"data-metric": "quarantine-reason"})
    assert reason_cell["text"] == reason and "expect_column_values_to_be_in_set" in reason
    assert "Code not in the contract" not in dom, "the report must not show values from the files"

    # (d) completeness: counts over the rows held, no raw values
    (checked,) = page.find(**{"data-metric": "rows-checked", "data-dataset": "police__recorded_crime"})
    assert number(checked["text"]) == held["police__recorded_crime"]
    (share,) = page.find(
        **{"data-metric": "completeness", "data-dataset": "police__recorded_crime", "data-field": "crime_reference"}
    )
    assert share["text"] == "100.0%"
    assert not any(v in dom for v in values), "a raw value appeared in the report"

    # (e) the charts: one bar per month, the bars adding up to the rows loaded and the files quarantined
    for chart, unit, total in (("chart-rows", "rows", sum(held.values())), ("chart-failures", "failures", 1)):
        bars = [el for el in page.find() if el["tag"] == "g" and chart in el["in"] and "data-month" in el["attrs"]]
        assert [b["attrs"]["data-month"] for b in bars] == MONTHS, chart
        assert sum(int(b["attrs"][f"data-{unit}"]) for b in bars) == total, chart
    rects = [el for el in page.find() if el["tag"] == "rect" and "chart-rows" in el["in"]]
    # One stacked segment per agency and month: police in every month, youth justice in all but the quarantined one.
    assert len(rects) == 2 * len(MONTHS) - 1

    # (f) Data Docs: the gate wrote each loaded file's page while validating it; the report built the index over
    # them and links to it
    (docs,) = page.find(id="data-docs")
    assert "Data Docs" in docs["text"] and str(data_dir / "data_docs" / "index.html") in docs["text"]

    # The screenshot, kept for people to look at (tests/artifacts/ is git-ignored).
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "ig_report.png"
    shot.unlink(missing_ok=True)
    chromium.run(f"--screenshot={shot}", "--window-size=1400,2000", index.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_links_data_docs_when_they_are_built(warehouse_url, data_dir, tmp_path):
    from partnership.report import build_report

    docs = data_dir / "data_docs"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html></html>")
    page = build_report(warehouse_url).read_text()
    assert 'href="../../data_docs/index.html"' in page  # the default place: <data>/reports/ig/index.html
    assert "No file has been quarantined" in page and "Counts and shares only" in page


SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(2)>'


def test_report_escapes_what_comes_from_outside(warehouse_url, data_dir):
    """File names, reasons, flags and dataset names come from agencies' files and the audit: the page shows them as
    text, in elements and in attributes, and never as markup."""
    from partnership.report import build_report

    evil_file = f"{SCRIPT}{BREAKOUT}_2024-05.csv"
    evil_reason = f"{BREAKOUT} and {SCRIPT} & 'quoted'"
    evil_dataset = f"police{BREAKOUT}__{SCRIPT}"
    with warehouse.connect(warehouse_url) as conn:
        conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, status, reason, resolution, loaded_by)"
            " values ('police__recorded_crime', %s, repeat('a', 64), 'quarantined', %s, %s, %s)",
            (evil_file, evil_reason, SCRIPT, BREAKOUT),
        )
        conn.execute(
            "insert into audit.load_batch (dataset, file_name, file_sha256, status, row_count, flags, finished_at)"
            " values (%s, %s, repeat('b', 64), 'loaded', 3, %s, now())",
            (evil_dataset, f"{BREAKOUT}.csv", f"{SCRIPT} flagged {BREAKOUT}"),
        )
    source = build_report(warehouse_url).read_text()
    assert "<script" not in source and "<img" not in source

    page = Page()
    page.feed(source)
    assert not [el for el in page.elements if el["tag"] in ("script", "img") or "onerror" in el["attrs"]]
    (file_cell,) = page.find(**{"data-metric": "quarantined-file"})
    assert file_cell["text"] == evil_file
    (reason_cell,) = page.find(**{"data-metric": "quarantine-reason"})
    assert reason_cell["text"] == evil_reason
    loads = next(el for el in page.elements if el["attrs"].get("id") == "loads")["text"]
    assert f"{SCRIPT} flagged {BREAKOUT}" in loads and f"{BREAKOUT}.csv" in loads and evil_dataset in loads
    # In attributes too: an unknown dataset's agency (the name before "__") is a chart series, quotes and all.
    evil_agency = evil_dataset.split("__")[0]
    (segment,) = page.find(**{"data-series": evil_agency})
    assert "chart-rows" in segment["in"] and segment["text"].endswith(f"{evil_agency}: 3")
    legend = next(el for el in page.elements if el["attrs"].get("class") == "legend")
    assert evil_agency in legend["text"]


def test_chromium_is_installed():
    """`make test` installs it first (the `chromium` target); without it the report cannot be checked."""
    assert Path(chromium.binary()).exists()
