"""The geometry of the IG report's charts: stacked bars, one per month, as plain numbers.

The template's ``bar_chart`` macro draws them as inline SVG (labelled for screen readers); nothing here writes
markup, so every name in a chart (an agency, a month) is escaped by the template engine like any other text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Colours for the agencies in the volume chart (a colour-blind-safe palette, repeated if needed).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#117733", "#999999")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1280, 300, 70, 20, 20, 60
MAX_MONTH_LABELS = 24  # at most about this many month labels under the bars


@dataclass(frozen=True)
class Tick:
    """A gridline across the plot at height ``y``, labelled ``value``."""

    y: float
    value: float


@dataclass(frozen=True)
class Segment:
    """One series' part of a month's bar."""

    series: str
    value: int
    y: float
    height: float
    colour: str


@dataclass
class Bar:
    month: str
    total: int
    x: float
    label_x: float | None = None  # where its month is written under the axis; None: not written (too many months)
    segments: list[Segment] = field(default_factory=list)


@dataclass
class BarChart:
    chart_id: str
    title: str
    unit: str  # "rows" or "failures": the bars' data-<unit> attribute and their tooltips
    ticks: list[Tick]
    bars: list[Bar]
    bar_width: float
    legend: list[tuple[str, str]]  # (series, colour) of every series drawn
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT  # where the plot ends
    top: int = TOP
    baseline: int = HEIGHT - BOTTOM  # the x axis

    @property
    def label_y(self) -> int:
        return self.baseline + 14


def month_range(months: set[str]) -> list[str]:
    """Every month from the first to the last, gaps included: a month with nothing is worth seeing."""
    if not months:
        return []
    first, last = min(months), max(months)
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def nice_max(value: float) -> float:
    """A round number at or above value, for the top of the y axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def colours_for(series: list[str]) -> dict[str, str]:
    return {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}


def bar_chart(
    chart_id: str, title: str, months: list[str], stacks: dict[str, dict[str, int]], colours: dict[str, str], unit: str
) -> BarChart:
    """Stacked bars, one per month: stacks[month][series] = value; a series with no value in a month is not drawn."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = {m: sum(stacks.get(m, {}).values()) for m in months}
    # Counts: a top of at least 4 split into 4 or 5 steps keeps every tick a whole number.
    top_value = max(nice_max(max(totals.values(), default=0)), 4)
    steps = 4 if top_value % 4 == 0 else 5
    ticks = [Tick(TOP + plot_h - plot_h * i / steps, top_value * i / steps) for i in range(steps + 1)]
    slot = plot_w / max(len(months), 1)
    bar_w = max(min(slot * 0.7, 60), 2)
    label_every = max(1, round(len(months) / MAX_MONTH_LABELS))
    bars = []
    for i, month in enumerate(months):
        bar = Bar(month, totals[month], LEFT + slot * i + (slot - bar_w) / 2)
        if i % label_every == 0:
            bar.label_x = LEFT + slot * i + slot / 2
        y = TOP + plot_h
        for series, value in sorted(stacks.get(month, {}).items()):
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            bar.segments.append(Segment(series, value, y, h, colours[series]))
        bars.append(bar)
    legend = [(s, colours[s]) for s in sorted({s for stack in stacks.values() for s in stack})]
    return BarChart(chart_id, title, unit, ticks, bars, bar_w, legend)
