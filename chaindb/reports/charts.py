"""Horizontal bar charts drawn on the server as SVG: the geometry here, the markup in
templates/reports/_chart.html. No script, no inline style (the Content-Security-Policy forbids
it): only SVG presentation attributes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chaindb.reports.catalog import ChartData, Report

WIDTH = 760
LABEL_WIDTH = 210  # the bars' labels, right-aligned against the bars
VALUE_WIDTH = 120  # the figures after the bars
TOP = 8
BAR = 18  # the height of a bar (a grouped bar: BAR / series, at least 8)
GAP = 8
FONT = 12
LEGEND = 22  # the height of the legend line, when there are several series
# Colours that stay apart on a white page and for the common colour-vision deficiencies.
PALETTE = ("#1f5fbf", "#e08a1e", "#1e7a3c", "#b3261e", "#6b4e9b", "#0e7c86", "#8c6d1f",
           "#5b6776")  # fmt: skip


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str  # what it stands for and its figure, for the tooltip and screen readers


@dataclass
class Figure_:
    text: str
    x: float
    y: float


@dataclass
class Bar:
    label: str  # shortened to fit
    full_label: str
    y: float  # the middle of the bar's band
    rects: list[Rect] = field(default_factory=list)
    figures: list[Figure_] = field(default_factory=list)
    summary: str = ""


@dataclass
class Legend:
    x: float
    y: float
    fill: str
    label: str


@dataclass
class Figure:
    id: str
    title: str
    description: str
    width: int
    height: float
    label_width: int
    bars: list[Bar]
    legend: list[Legend]


def text_width(text: str) -> float:
    """An estimate of the width of text at FONT pixels: CJK characters are twice as wide."""
    width = 0.0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += FONT if unicodedata.east_asian_width(char) in ("W", "F") else FONT * 0.58
    return width


def shorten(text: str, room: float) -> str:
    if text_width(text) <= room:
        return text
    out = ""
    for char in text:
        if text_width(out + char + "…") > room:
            break
        out += char
    return out + "…"


def _number(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _fills(report: Report, data: ChartData) -> list[str]:
    """A colour per series; a vocabulary's value keeps its colour whichever values are present
    (signed is the same green on every page)."""
    chart = data.chart
    known: list[Any] = []
    if chart.split:
        known = list(chart.split_labels or report.by_name[chart.split].choices or [])
    fills = []
    for s, (key, _values) in enumerate(data.series):
        n = known.index(key) if key in known else len(known) + s
        fills.append(PALETTE[n % len(PALETTE)])
    return fills


def _legend(labels: list[str], fills: list[str]) -> tuple[list[Legend], float]:
    """The legend's entries, wrapped to the chart's width; and the height they take."""
    entries: list[Legend] = []
    x, y = float(LABEL_WIDTH), TOP + LEGEND / 2
    for label, fill in zip(labels, fills, strict=True):
        width = 18 + text_width(label) + 14
        if x + width > WIDTH and x > LABEL_WIDTH:
            x, y = float(LABEL_WIDTH), y + LEGEND
        entries.append(Legend(x, y, fill, label))
        x += width
    return entries, (y - TOP + LEGEND / 2) if entries else 0.0


def figure(
    report: Report,
    data: ChartData | None,
    *,
    show: Callable[[str, Any], str],
    series_label: Callable[[Any], str],
    value_format: Callable[[Any], str],
    description: str,
) -> Figure | None:
    """The chart's geometry; None when there is nothing to draw (no rows, or all zero).

    `show(column, value)` labels a category value; `series_label(key)` names a series;
    `value_format(value)` writes a figure (亿元, %, a count) as the table does.
    """
    if data is None or not data.categories:
        return None
    chart = data.chart
    series = data.series
    stacked = chart.kind == "stacked"
    several = len(series) > 1 or chart.split is not None  # a split always names its series
    count = len(data.categories)
    totals = [sum((_number(values[i]) for _, values in series), Decimal(0)) for i in range(count)]
    if stacked:
        peak = max(totals)
    else:
        peak = max((_number(v) for _, values in series for v in values), default=Decimal(0))
    if peak <= 0:
        return None
    names = [series_label(key) for key, _values in series]
    fills = _fills(report, data)
    legend, legend_height = _legend(names, fills) if several else ([], 0.0)
    band = float(BAR) if stacked or not several else max(BAR, len(series) * 13.0)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = TOP + legend_height + (GAP if several else 0)
    bars: list[Bar] = []
    for i, category in enumerate(data.categories):
        if chart.label:
            full = chart.label(category, lambda name, c=category: show(name, c.get(name)))
        else:
            parts = [show(name, category[name]) for name in chart.category]
            full = " · ".join(p for p in parts if p)
        y = top + i * (band + GAP)
        bar = Bar(label=shorten(full, LABEL_WIDTH - 8), full_label=full, y=y + band / 2)
        x = float(LABEL_WIDTH)
        pieces = []
        for s, (_key, values) in enumerate(series):
            value = values[i]
            length = max(float(_number(value) / peak) * plot, 0.0)
            fill = fills[s]
            written = value_format(value)
            piece = f"{names[s]}: {written}" if several else written
            pieces.append(piece)
            if stacked:
                if length > 0:
                    bar.rects.append(Rect(x, y, length, band, fill, f"{full} · {piece}"))
                x += length
                continue
            height = band / len(series)
            top_of = y + s * height
            bar.rects.append(
                Rect(LABEL_WIDTH, top_of, length, max(height - 1, 1), fill, f"{full} · {piece}")
            )
            if value is not None:  # no figure for a rate with nothing to divide by
                bar.figures.append(Figure_(written, LABEL_WIDTH + length + 4, top_of + height / 2))
        if stacked:
            bar.figures.append(Figure_(value_format(totals[i]), x + 4, y + band / 2))
        bar.summary = f"{full}: " + "; ".join(pieces)
        bars.append(bar)
    return Figure(
        id=f"chart-{report.name}",
        title=str(chart.title),
        description=description,
        width=WIDTH,
        height=top + count * (band + GAP) + TOP,
        label_width=LABEL_WIDTH,
        bars=bars,
        legend=legend,
    )
