"""The ward map of the Board's report: Manchester's 32 wards shaded by a measure, as one inline ``<svg>``.

The scale is ColorBrewer's YlGnBu (colour-blind safe, light = low, dark = high) in up to 5 equal-count classes.
Wards whose figure was suppressed by disclosure control are hatched, and wards without data are grey, so a reader
never mistakes either for a low value; a suppressed ward's value (if one was passed) is never drawn or used.
The three localities (North, Central, South) are outlined and labelled. Ward boundaries are ONS's (see
``reference/geography/README.md``), simplified as a coverage so that neighbouring wards still meet.
"""

from __future__ import annotations

import csv
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely
from shapely.geometry import shape
from shapely.ops import polylabel

from partnership import settings

GEOJSON_FILE = Path(__file__).parent.parent / "reference" / "geography" / "manchester_wards.geojson"
# ColorBrewer 2.0 YlGnBu, 5 classes (colorbrewer2.org, Cynthia Brewer, Penn State; Apache-2.0 licence).
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
NO_DATA_FILL = "#d9d9d9"
MAP_HEIGHT, PAD, WIDTH, HEIGHT, LEGEND_X = 600, 10, 640, 620, 340  # pixels; the legend is right of the map (~310 px)
TOLERANCE = 1.0  # coverage simplification, in map pixels (about 35 m)


@dataclass(frozen=True)
class WardValue:
    value: float | None  # None with suppressed=False means "no data"
    suppressed: bool = False  # published as suppressed ("*") by disclosure control


@dataclass(frozen=True)
class _Ward:
    code: str
    name: str
    locality: str
    d: str  # SVG path data in map pixels


@dataclass(frozen=True)
class _Locality:
    name: str
    d: str
    label_at: tuple[float, float]


def _ring(coords) -> str:
    points: list[str] = []
    for x, y in coords[:-1]:  # the last point repeats the first; Z closes the ring
        point = f"{x:.1f},{y:.1f}"
        if not points or points[-1] != point:
            points.append(point)
    return "M" + " ".join(points) + "Z"


def _polygons(geometry) -> list:
    return list(getattr(geometry, "geoms", [geometry]))


def _rings(geometry) -> list:
    return [ring for p in _polygons(geometry) for ring in (p.exterior, *p.interiors)]


@cache
def _geography() -> tuple[tuple[_Ward, ...], tuple[_Locality, ...]]:
    """The wards and localities in map pixels: equirectangular, x scaled by cos(latitude of the centre), y down."""
    features = json.loads(GEOJSON_FILE.read_text(encoding="utf-8"))["features"]
    min_x, min_y, max_x, max_y = shapely.total_bounds([shape(f["geometry"]) for f in features])
    scale = MAP_HEIGHT / (max_y - min_y)
    x_scale = scale * math.cos(math.radians((min_y + max_y) / 2))
    projected = [
        shapely.transform(shape(f["geometry"]), lambda c: (c - [min_x, max_y]) * [x_scale, -scale] + PAD)
        for f in features
    ]
    simplified = shapely.coverage_simplify(projected, TOLERANCE)

    seed = settings.DBT_PROJECT_DIR / "seeds" / "manchester_localities.csv"
    with seed.open(newline="", encoding="utf-8") as f:
        locality_of = {row["ward19_code"]: row["locality"] for row in csv.DictReader(f)}
    properties = [f["properties"] for f in features]
    if sorted(p["WD25CD"] for p in properties) != sorted(locality_of):
        raise ValueError(f"{GEOJSON_FILE.name} and {seed.name} list different wards")

    wards = tuple(
        _Ward(p["WD25CD"], p["WD25NM"], locality_of[p["WD25CD"]], "".join(_ring(r.coords) for r in _rings(g)))
        for p, g in zip(properties, simplified, strict=True)
    )
    localities = []
    for name in ("North", "Central", "South"):
        union = shapely.unary_union([g for w, g in zip(wards, simplified, strict=True) if w.locality == name])
        largest = max(_polygons(union), key=lambda p: p.area)
        label = polylabel(largest, tolerance=1.0)
        d = "".join(_ring(p.exterior.coords) for p in _polygons(union))
        localities.append(_Locality(name, d, (round(label.x, 1), round(label.y, 1))))
    return wards, tuple(localities)


def fmt(value: float, decimals: int = 1) -> str:
    """A value for the reader: thousands separated, ``decimals`` places (1 for rates, 0 for counts)."""
    return f"{value:,.{decimals}f}"


def quantile_classes(values: list[float], k: int = len(PALETTE)) -> list[tuple[float, float]]:
    """Up to ``k`` equal-count classes, each as (lowest, highest) value in it; fewer when values tie."""
    ordered = sorted(values)
    n = len(ordered)
    classes: list[tuple[float, float]] = []
    for hi in sorted({ordered[-(-(i + 1) * n // k) - 1] for i in range(k)} if n else set()):  # top of each class
        classes.append((next(v for v in ordered if not classes or v > classes[-1][1]), hi))
    return classes


def _class_colours(m: int) -> list[str]:
    """``m`` colours spread over the palette, light to dark (the middle one when there is a single class)."""
    return [PALETTE[2]] if m == 1 else [PALETTE[round(i * (len(PALETTE) - 1) / (m - 1))] for i in range(m)]


def ward_map_svg(values: Mapping[str, WardValue], *, title: str, measure: str, map_id: str, decimals: int = 1) -> str:
    """One self-contained inline ``<svg>`` (every id prefixed with ``map_id``); values keyed by ward code."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", map_id):
        raise ValueError(f"map_id must be a letter then letters, digits, - or _: {map_id!r}")
    wards, localities = _geography()
    unknown = sorted(set(values) - {w.code for w in wards})
    if unknown:
        raise ValueError(f"not a Manchester ward code: {', '.join(unknown)}")

    missing = WardValue(None)
    suppressed = {w.code for w in wards if values.get(w.code, missing).suppressed}
    shown = {  # a suppressed ward's value, if one was passed, is never drawn nor used for the classes
        w.code: float(v.value)
        for w in wards
        if w.code not in suppressed and (v := values.get(w.code, missing)).value is not None and not math.isnan(v.value)
    }
    classes = quantile_classes(list(shown.values()))
    colours = _class_colours(len(classes))
    hatch = f"url(#{map_id}-hatch)"
    n_suppressed, n_missing = len(suppressed), len(wards) - len(suppressed) - len(shown)

    if shown:
        top = max(shown.values())
        names = " and ".join(w.name for w in wards if shown.get(w.code) == top)
        summary = f"highest: {names} ({fmt(top, decimals)})"
    else:
        summary = "no ward has a published value"
    desc = f"Map of Manchester's {len(wards)} wards shaded by {measure}; {summary}; {_count(n_suppressed)} suppressed"
    desc += f"; {_count(n_missing)} with no data." if n_missing else "."

    svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {WIDTH} {HEIGHT}")
    svg.attrib.update({"width": str(WIDTH), "height": str(HEIGHT), "role": "img", "class": "ward-map"})
    svg.set("aria-labelledby", f"{map_id}-title {map_id}-desc")
    ET.SubElement(svg, "title", id=f"{map_id}-title").text = title
    ET.SubElement(svg, "desc", id=f"{map_id}-desc").text = desc
    tile = {"width": "6", "height": "6"}  # diagonal lines drawn in the tile (no patternTransform, for PDF renderers)
    pattern = ET.SubElement(ET.SubElement(svg, "defs"), "pattern", id=f"{map_id}-hatch", patternUnits="userSpaceOnUse")
    pattern.attrib.update(tile)
    ET.SubElement(pattern, "rect", {**tile, "fill": "#ffffff"})
    lines = {"d": "M0,6 6,0M-1.5,1.5 1.5,-1.5M4.5,7.5 7.5,4.5", "stroke": "#525252", "stroke-width": "1.5"}
    ET.SubElement(pattern, "path", lines)

    group = ET.SubElement(svg, "g", {"class": "wards", "stroke": "#ffffff", "stroke-width": "0.6"})
    for w in wards:
        if w.code in shown:
            i = next(i for i, (_, hi) in enumerate(classes) if shown[w.code] <= hi)
            fill, label = colours[i], f"{w.name}: {fmt(shown[w.code], decimals)} {measure}"
        elif w.code in suppressed:
            fill, label = hatch, f"{w.name}: suppressed (*)"
        else:
            fill, label = NO_DATA_FILL, f"{w.name}: no data"
        path = ET.SubElement(group, "path", {"class": "ward", "data-ward-code": w.code, "data-ward-name": w.name})
        path.attrib.update({"fill": fill, "fill-rule": "evenodd", "d": w.d})
        ET.SubElement(path, "title").text = label

    outlines = ET.SubElement(svg, "g", {"class": "localities", "stroke": "#222222", "stroke-width": "2"})
    labels = ET.SubElement(svg, "g", {"font-family": "sans-serif", "font-size": "13", "font-weight": "bold"})
    for loc in localities:
        ET.SubElement(outlines, "path", {"class": "locality", "data-locality": loc.name, "fill": "none", "d": loc.d})
        x, y = (f"{c:g}" for c in loc.label_at)
        common = {"x": x, "y": y, "text-anchor": "middle", "dominant-baseline": "middle"}
        halo = {"class": "locality-halo", "fill": "none", "stroke": "#ffffff", "stroke-width": "3", **common}
        ET.SubElement(labels, "text", halo).text = loc.name  # drawn first: a white halo that keeps the label legible
        ET.SubElement(labels, "text", {"class": "locality-label", "fill": "#111111", **common}).text = loc.name

    legend = ET.SubElement(svg, "g", {"class": "legend", "font-family": "sans-serif", "font-size": "12"})
    ET.SubElement(legend, "text", {"x": str(LEGEND_X), "y": "30", "font-weight": "bold"}).text = measure
    entries = [
        (c, fmt(lo, decimals) if lo == hi else f"{fmt(lo, decimals)} – {fmt(hi, decimals)}")
        for c, (lo, hi) in zip(colours, classes, strict=True)
    ]
    entries += [(hatch, "Suppressed (*)"), (NO_DATA_FILL, "No data")]
    for row, (fill, text) in enumerate(entries):
        y = 44 + 22 * row
        item = ET.SubElement(legend, "g", {"class": "legend-item"})
        ET.SubElement(item, "rect", x=str(LEGEND_X), y=str(y), width="22", height="14", fill=fill, stroke="#737373")
        ET.SubElement(item, "text", x=str(LEGEND_X + 30), y=str(y + 11)).text = text
    return ET.tostring(svg, encoding="unicode")


def _count(n: int) -> str:
    return f"{n} ward" if n == 1 else f"{n} wards"
