"""The report's charts: matplotlib drawn to static, accessible SVG to inline in the page.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (its alt text), its text kept as text
(searchable, read by screen readers), and its ids prefixed with the chart's own so that many charts share one
page. A suppressed value is never drawn: the chart leaves a gap and marks "*" where it would be. Colours are
the Okabe-Ito colour-blind-safe set. The data table behind each chart is the template's work (render.py).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display; the charts are files

import matplotlib.pyplot as plt  # noqa: E402

BLUE, ORANGE, GREEN, GREY, VERMILION = "#0072B2", "#E69F00", "#009E73", "#7f7f7f", "#D55E00"
STYLE = {
    "svg.fonttype": "none",  # text as <text>, not outlines
    "svg.hashsalt": "partnership-board-report",  # the same data draws the same file
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "text.parse_math": False,  # a "$" in a label from the warehouse is a dollar sign, not mathematics
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
}
SIZE = (6.4, 2.9)  # inches: the width of an A4 page's text column


@dataclass(frozen=True)
class Point:
    """One value on a chart; ``value`` None means suppressed (if ``suppressed``) or no data."""

    label: str
    value: float | None
    lower: float | None = None
    upper: float | None = None
    suppressed: bool = False


def _svg(fig, chart_id: str, title: str, alt: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)
    # Ids are local to one chart in the file but shared by every chart on the page: prefix them.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{chart_id}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{chart_id}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{chart_id}-\1"', text)
    text = re.sub(r'(<svg[^>]*?) width="[^"]+" height="[^"]+"', r"\1", text, count=1)  # the page sizes it
    attributes, body = text[len("<svg") :].split(">", 1)
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart"{attributes}>'
        f'<title id="{chart_id}-title">{html.escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{html.escape(alt)}</desc>{body}'
    )


def _quarter_tick(point: Point) -> str:
    """``2024/25 Q3`` as "Q3" over "2024/25", so that many quarters fit; "*" marks a suppressed one."""
    year, _, quarter = point.label.rpartition(" ")
    return (
        f"{quarter}{' *' if point.suppressed else ''}\n{year}"
        if year
        else point.label + (" *" if point.suppressed else "")
    )


def trend_chart(
    chart_id: str,
    title: str,
    alt: str,
    points: Sequence[Point],
    y_label: str,
    *,
    limits: Sequence[tuple[float, float, float] | None] = (),
    comparison: Sequence[Point] = (),
    comparison_label: str = "",
) -> str:
    """Quarterly values with their 95% intervals; the baseline's centre line and process limits (centre, lower,
    upper per quarter: they differ by quarter of the year when seasonally adjusted) where given; a comparison
    series (the same quarters of 2019/20) in grey."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=SIZE)
        xs = range(len(points))
        if comparison:
            ax.plot(
                xs,
                [p.value if p.value is not None else float("nan") for p in comparison],
                color=GREY,
                marker="s",
                markersize=3,
                linestyle="--",
                linewidth=1,
                label=comparison_label,
            )
        values = [p.value if p.value is not None else float("nan") for p in points]
        ax.plot(xs, values, color=BLUE, marker="o", markersize=4, linewidth=1.5, label="Quarter (95% interval)")
        for x, p in zip(xs, points, strict=True):
            if p.value is not None and p.lower is not None and p.upper is not None:
                ax.vlines(x, p.lower, p.upper, color=BLUE, linewidth=1, alpha=0.6)
        if any(limits):
            column = lambda i: [lim[i] if lim else float("nan") for lim in limits]  # noqa: E731
            ax.plot(xs, column(0), color=GREEN, linewidth=1, drawstyle="steps-mid", label="Baseline (centre line)")
            ax.plot(xs, column(1), color=ORANGE, linewidth=1, linestyle=":", drawstyle="steps-mid")
            ax.plot(
                xs, column(2), color=ORANGE, linewidth=1, linestyle=":", drawstyle="steps-mid", label="Process limits"
            )
        ax.set_xticks(list(xs), [_quarter_tick(p) for p in points], rotation=0)
        ax.set_ylabel(y_label)
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=4)
        return _svg(fig, chart_id, title, alt)


def interval_chart(
    chart_id: str,
    title: str,
    alt: str,
    points: Sequence[Point],
    x_label: str,
    *,
    reference: float | None = None,
    reference_label: str = "",
    markers: Sequence[float | None] = (),
    marker_label: str = "",
) -> str:
    """One horizontal bar (no interval) or dot with its 95% interval per category, top to bottom; an optional
    vertical reference line (a relative rate of 1) and a second marker per category (England's value)."""
    with plt.rc_context(STYLE):
        height = max(1.6, 0.32 * len(points) + 0.9)
        fig, ax = plt.subplots(figsize=(SIZE[0], height))
        ys = list(range(len(points)))[::-1]
        has_intervals = any(p.lower is not None for p in points)
        for y, p in zip(ys, points, strict=True):
            if p.value is None:
                ax.text(0, y, " * suppressed" if p.suppressed else " no data", va="center", fontsize=8, color=GREY)
            elif has_intervals:
                ax.plot([p.value], [y], "o", color=BLUE, markersize=5)
                if p.lower is not None and p.upper is not None:
                    ax.hlines(y, p.lower, p.upper, color=BLUE, linewidth=1.5)
            else:
                ax.barh(y, p.value, color=BLUE, height=0.6)
        for y, m in zip(ys, markers, strict=False):
            if m is not None:
                ax.plot([m], [y], "D", color=ORANGE, markersize=5)
        if markers:
            ax.plot([], [], "D", color=ORANGE, label=marker_label)
            ax.legend(frameon=False, fontsize=8, loc="lower right")
        if reference is not None:
            ax.axvline(reference, color=GREY, linewidth=1, linestyle="--")
            ax.annotate(reference_label, (reference, ys[0] + 0.5), fontsize=8, color=GREY, annotation_clip=False)
        ax.set_yticks(ys, [p.label + (" *" if p.suppressed else "") for p in points])
        ax.set_xlabel(x_label)
        ax.set_xlim(left=0)
        ax.set_title(title, loc="left")
        return _svg(fig, chart_id, title, alt)
