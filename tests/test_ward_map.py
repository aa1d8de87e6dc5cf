"""The Board report's ward map: one self-contained SVG, every ward drawn once, suppressed wards hatched, no-data
wards grey, monotone colour classes, locality outlines, legend, ids unique across maps, alt text."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from partnership import settings
from partnership.board_report.ward_map import GEOJSON_FILE, NO_DATA_FILL, PALETTE, WardValue, ward_map_svg

NS = {"svg": "http://www.w3.org/2000/svg"}
SEED = settings.DBT_PROJECT_DIR / "seeds" / "manchester_localities.csv"


def seed_wards() -> dict[str, str]:
    with SEED.open(newline="", encoding="utf-8") as f:
        return {row["ward19_code"]: row["ward19_name"] for row in csv.DictReader(f)}


def rates() -> dict[str, WardValue]:
    """A distinct value for every ward: 10.0, 12.5, 15.0, …"""
    return {code: WardValue(10 + 2.5 * i) for i, code in enumerate(sorted(seed_wards()))}


def render(values, map_id="m") -> ET.Element:
    return ET.fromstring(ward_map_svg(values, title="Crime by ward", measure="crimes per 1,000", map_id=map_id))


def wards(svg: ET.Element) -> dict[str, ET.Element]:
    return {p.get("data-ward-code"): p for p in svg.iterfind(".//svg:path[@class='ward']", NS)}


def legend_texts(svg: ET.Element) -> list[str]:
    return [t.text for t in svg.iterfind(".//svg:g[@class='legend']//svg:g[@class='legend-item']/svg:text", NS)]


def test_geojson_holds_the_32_wards_with_only_code_and_name():
    features = json.loads(GEOJSON_FILE.read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["WD25CD"]: f["properties"]["WD25NM"] for f in features} == seed_wards()
    assert all(set(f["properties"]) == {"WD25CD", "WD25NM"} for f in features)


def test_every_ward_is_one_filled_path_with_its_code():
    text = ward_map_svg(rates(), title="Crime by ward", measure="crimes per 1,000", map_id="m")
    assert not text.startswith("<?xml") and text.startswith("<svg")
    assert not re.search(r"<script|<image|href=|https?://(?!www\.w3\.org/2000/svg)", text)
    paths = list(ET.fromstring(text).iterfind(".//svg:path[@class='ward']", NS))
    assert len(paths) == 32
    assert sorted(p.get("data-ward-code") for p in paths) == sorted(seed_wards())
    assert all(p.get("fill") in PALETTE and p.get("fill-rule") == "evenodd" and p.get("d") for p in paths)
    assert len(text.encode()) < 60_000


def test_suppressed_wards_are_hatched_and_no_data_wards_grey():
    values = rates()
    codes = sorted(values)
    values[codes[0]] = WardValue(None, suppressed=True)
    values[codes[1]] = WardValue(987.6, suppressed=True)  # a value passed with a suppressed ward is never shown
    del values[codes[2]]
    values[codes[3]] = WardValue(None)
    text = ward_map_svg(values, title="t", measure="crimes", map_id="q3")
    svg = ET.fromstring(text)
    drawn = wards(svg)
    assert drawn[codes[0]].get("fill") == drawn[codes[1]].get("fill") == "url(#q3-hatch)"
    assert svg.find(".//svg:defs/svg:pattern[@id='q3-hatch']", NS) is not None
    assert drawn[codes[0]].find("svg:title", NS).text.endswith(": suppressed (*)")
    assert drawn[codes[2]].get("fill") == drawn[codes[3]].get("fill") == NO_DATA_FILL
    assert drawn[codes[2]].find("svg:title", NS).text.endswith(": no data")
    assert "987.6" not in text


def test_a_higher_value_never_gets_a_lighter_class():
    values = {
        code: WardValue(float(v)) for code, v in zip(sorted(seed_wards()), [5, 3, 3, 9, 1, 7, 2, 8] * 4, strict=True)
    }
    drawn = wards(render(values))
    shade = {code: PALETTE.index(p.get("fill")) for code, p in drawn.items()}
    for a in values:
        for b in values:
            if values[a].value > values[b].value:
                assert shade[a] >= shade[b], (values[a], values[b])
    assert len(set(shade.values())) == 5
    titles = [p.find("svg:title", NS).text for p in drawn.values()]
    assert all(re.fullmatch(r".+: \d\.0 crimes per 1,000", t) for t in titles)


def test_three_localities_outlined_and_labelled():
    svg = render(rates())
    outlines = list(svg.iterfind(".//svg:path[@class='locality']", NS))
    assert sorted(p.get("data-locality") for p in outlines) == ["Central", "North", "South"]
    assert all(p.get("fill") == "none" and p.get("d").startswith("M") for p in outlines)
    labels = [t.text for t in svg.iterfind(".//svg:text[@class='locality-label']", NS)]
    assert sorted(labels) == ["Central", "North", "South"]


def test_legend_lists_each_class_then_suppressed_and_no_data():
    texts = legend_texts(render(rates()))
    assert texts == [  # 32 values in 5 equal-count classes: 7, 6, 7, 6, 6 (ranks up to 32 × 1/5, 2/5, … rounded up)
        "10.0 – 25.0",
        "27.5 – 40.0",
        "42.5 – 57.5",
        "60.0 – 72.5",
        "75.0 – 87.5",
        "Suppressed (*)",
        "No data",
    ]


def test_two_maps_in_one_page_share_no_id():
    page = f"<html><body>{ward_map_svg(rates(), title='a', measure='x', map_id='crime')}"
    page += f"{ward_map_svg(rates(), title='b', measure='x', map_id='asb')}</body></html>"
    ids = [e.get("id") for e in ET.fromstring(page).iter() if e.get("id")]
    assert len(ids) == 6 and not [i for i, n in Counter(ids).items() if n > 1]
    assert all(i.startswith(("crime-", "asb-")) for i in ids)


def test_unknown_ward_code_is_refused_by_name():
    with pytest.raises(ValueError, match="E05999999"):
        ward_map_svg({"E05999999": WardValue(1.0), **rates()}, title="t", measure="x", map_id="m")


def test_ampersands_in_ward_names_are_escaped():
    text = ward_map_svg(rates(), title="Crime & disorder", measure="x", map_id="m")
    assert 'data-ward-name="Ancoats &amp; Beswick"' in text
    names = {p.get("data-ward-name") for p in wards(ET.fromstring(text)).values()}
    assert {"Ancoats & Beswick", "Clayton & Openshaw", "Gorton & Abbey Hey"} <= names


def test_title_and_desc_are_referenced_and_desc_names_the_highest_ward():
    values = rates()
    values["E05011360"] = WardValue(500.0)  # Crumpsall
    values["E05011361"] = WardValue(None, suppressed=True)
    svg = render(values, map_id="crime")
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "crime-title crime-desc"
    assert svg.find("svg:title", NS).get("id") == "crime-title" and svg.find("svg:title", NS).text == "Crime by ward"
    desc = svg.find("svg:desc", NS)
    assert desc.get("id") == "crime-desc"
    assert "highest: Crumpsall (500.0)" in desc.text and "1 ward suppressed" in desc.text


def test_all_wards_suppressed():
    svg = render({code: WardValue(None, suppressed=True) for code in seed_wards()})
    assert {p.get("fill") for p in wards(svg).values()} == {"url(#m-hatch)"}
    assert legend_texts(svg) == ["Suppressed (*)", "No data"]
    assert "32 wards suppressed" in svg.find("svg:desc", NS).text


def test_all_values_equal():
    svg = render({code: WardValue(4.0) for code in seed_wards()})
    assert len({p.get("fill") for p in wards(svg).values()}) == 1
    assert legend_texts(svg) == ["4.0", "Suppressed (*)", "No data"]


def test_fewer_distinct_values_than_classes():
    values = {code: WardValue(float(i % 3)) for i, code in enumerate(sorted(seed_wards()))}
    svg = render(values)
    assert len({p.get("fill") for p in wards(svg).values()}) == 3
    assert legend_texts(svg)[:3] == ["0.0", "1.0", "2.0"]
