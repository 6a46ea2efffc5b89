"""The /stats chart: 14 days of new articles per source, deliveries, subscribers and reports.

Arabic labels (source names, the operator's language) are passed as they are: since 3.11
matplotlib lays text out with libraqm, which joins Arabic letters and orders right-to-left
runs (shaping them again with arabic-reshaper and python-bidi would reverse them). The font is
DejaVu Sans, which matplotlib ships and which has Arabic glyphs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

MAX_SOURCES = 6  # more colours than this are unreadable: the rest are summed as "other"


@dataclass(frozen=True, slots=True)
class ChartData:
    days: tuple[str, ...]  # YYYY-MM-DD, oldest first
    articles: dict[str, tuple[int, ...]]  # per source, one count per day
    deliveries: tuple[int, ...]
    subscribers: tuple[int, ...]
    reports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartLabels:
    title: str
    articles: str
    deliveries: str
    subscribers: str
    reports: str
    other: str


def _top_sources(articles: dict[str, tuple[int, ...]], other: str, days: int):
    ranked = sorted(articles.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    top = dict(ranked[:MAX_SOURCES])
    rest = ranked[MAX_SOURCES:]
    if rest:
        top[other] = tuple(sum(counts[d] for _, counts in rest) for d in range(days))
    return top


def render(data: ChartData, labels: ChartLabels) -> bytes:
    """A PNG of the 14 days: stacked articles per source above, three daily counts below."""
    # Imported here: matplotlib takes most of a second to import, and only /stats needs it.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 7), dpi=100, layout="constrained")
    font = {"family": "DejaVu Sans"}
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    x = range(len(data.days))
    ticks = [day[5:] for day in data.days]  # MM-DD
    base = [0] * len(data.days)
    for name, counts in _top_sources(data.articles, labels.other, len(data.days)).items():
        top.bar(x, counts, bottom=base, label=name)
        base = [b + c for b, c in zip(base, counts, strict=True)]
    top.set_title(f"{labels.title} · {labels.articles}", fontdict=font)
    if data.articles:
        top.legend(loc="upper left", fontsize="small", prop=font | {"size": 8})
    for series, label, style in (
        (data.deliveries, labels.deliveries, "o-"),
        (data.subscribers, labels.subscribers, "s-"),
        (data.reports, labels.reports, "^-"),
    ):
        bottom.plot(x, series, style, label=label)
    bottom.legend(loc="upper left", prop=font | {"size": 8})
    bottom.set_xticks(list(x), ticks, rotation=45, fontsize=8)
    for axes in (top, bottom):
        axes.grid(axis="y", alpha=0.3)
        axes.yaxis.get_major_locator().set_params(integer=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def series_for(days: Sequence[str], counts: dict[str, int]) -> tuple[int, ...]:
    return tuple(counts.get(day, 0) for day in days)
