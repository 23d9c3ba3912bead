"""Geometry of the report's bar charts, computed server-side so the SVG reads without script.

Only numbers and plain text leave this module: the template writes the SVG, autoescaped.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL_WIDTH = 420  # px reserved left of the bars for the family titles
BAR_AREA = 300
COUNT_WIDTH = 70
ROW_HEIGHT = 30
BAR_HEIGHT = 20
LABEL_CHARS = 62  # what fits in LABEL_WIDTH at the chart's font size; longer titles are cut


@dataclass(frozen=True)
class Bar:
    label: str  # shown, cut to fit
    title: str  # full text, as the SVG <title> tooltip and for screen readers
    count: int
    y: int
    width: float
    kind: str  # CSS class: what re-depositing means for this family
    target: str  # id of the family section the bar links to
    value: str = ""  # the text right of the bar when it is not the count (a rate)


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]


def _cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(items: list[tuple[str, int, str, str]]) -> BarChart:
    """Horizontal bars, one per (title, count, kind, target), in the order given."""
    largest = max((count for _, count, _, _ in items), default=0) or 1
    bars = tuple(
        Bar(
            label=_cut(title),
            title=title,
            count=count,
            y=index * ROW_HEIGHT,
            # A family with a single row still gets a visible bar next to one with thousands.
            width=round(max(2.0, BAR_AREA * count / largest), 1),
            kind=kind,
            target=target,
        )
        for index, (title, count, kind, target) in enumerate(items)
    )
    return BarChart(
        width=LABEL_WIDTH + BAR_AREA + COUNT_WIDTH,
        height=max(ROW_HEIGHT, ROW_HEIGHT * len(bars)),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )


def rate_chart(items: list[tuple[str, float, str]]) -> BarChart:
    """Horizontal bars of rates (0 to 1), one per (title, rate, rate as text), in the order
    given; the longest bar is the highest rate."""
    largest = max((rate for _, rate, _ in items), default=0.0) or 1.0
    bars = tuple(
        Bar(
            label=_cut(title),
            title=f"{title} : {shown}",
            count=0,
            y=index * ROW_HEIGHT,
            width=round(max(2.0, BAR_AREA * rate / largest), 1),
            kind="",
            target="",
            value=shown,
        )
        for index, (title, rate, shown) in enumerate(items)
    )
    return BarChart(
        width=LABEL_WIDTH + BAR_AREA + COUNT_WIDTH,
        height=max(ROW_HEIGHT, ROW_HEIGHT * len(bars)),
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )
