"""Breakouts chart: the forward price path (as % change) of the S&P 500 after each past breakout
event, each labelled with its year, their median (bold) and mean (dashed), the live event
highlighted; optionally the Russell 2000's own paths (``index="rut"``) or both side by side
(``index="both"``, same events, same y scale).

Statistics are the study's (``analytics.studies.breakouts``): over the completed paths only
(those with the full horizon), the final return ``p[h] / p[0] - 1`` of each; ``hits`` = finals
> 0, mean and median of the finals. The key quotes the same mean, median and hit rate as the
text, and the bold/dashed lines are the session-by-session median/mean of those paths (so the
lines end at the quoted figures). x is sessions after the event, labelled in months (21
sessions ≈ 1 month). Year labels sit right of the paths' ends, spread apart so they never
overlap; when more paths end than labels fit, the highest and lowest are labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter
from matplotlib.transforms import IdentityTransform

from analytics.charts import canvas as cv
from analytics.charts.errors import ChartInputError
from analytics.charts.inputs import BreakoutPath, BreakoutsInput
from analytics.charts.theme import ANNOTATION_PT, DPI, Theme
from analytics.formats import pct

SESSIONS_PER_MONTH = 21
LABEL_GAP_PX = ANNOTATION_PT * DPI / 72.0 * 1.15  # one year label's height
RIGHT_PX = 100  # room for a year label right of the paths


@dataclass(frozen=True)
class PathStats:
    """Over the completed paths: ``count``, ``hits`` (final return > 0), ``mean`` and
    ``median`` of the final returns (fractions), first and last event years."""

    count: int
    hits: int
    mean: float
    median: float
    first_year: int
    last_year: int


def calc_path_stats(paths: Sequence[BreakoutPath], horizon: int) -> PathStats | None:
    """:class:`PathStats` of the paths with ``horizon + 1`` values; None when there are none."""
    done = [p for p in paths if not p.live and len(p.values) == horizon + 1]
    if not done:
        return None
    finals = np.array([p.values[-1] / p.values[0] - 1.0 for p in done])
    return PathStats(count=len(done), hits=int((finals > 0).sum()), mean=float(finals.mean()),
                     median=float(np.median(finals)), first_year=done[0].event.year,
                     last_year=done[-1].event.year)


def _month_ticks(horizon: int) -> list[int]:
    months = horizon / SESSIONS_PER_MONTH
    step = 1 if months <= 6 else 3 if months <= 24 else 6
    return [m * SESSIONS_PER_MONTH for m in range(0, int(months) + 1, step)]


def _pct(value: float) -> str:
    return pct(value, 1)


def spread_labels(ys: Sequence[float], gap: float, lo: float, hi: float) -> list[float]:
    """Positions (same order as ``ys``) at least ``gap`` apart, each as near its wish as the
    others allow, inside ``[lo, hi]`` when they fit (pixels; upward = larger)."""
    order = np.argsort(ys)
    placed = [float(ys[i]) for i in order]
    for _ in range(len(placed) + 1):  # push up, then pull back down from the top bound
        for k in range(len(placed)):
            floor = lo if k == 0 else placed[k - 1] + gap
            placed[k] = max(placed[k], floor)
        for k in range(len(placed) - 1, -1, -1):
            ceiling = hi if k == len(placed) - 1 else placed[k + 1] - gap
            placed[k] = min(placed[k], ceiling)
    out = [0.0] * len(placed)
    for k, i in enumerate(order):
        out[int(i)] = placed[k]
    return out


def _label_years(fig: Figure, ax: Axes, done: Sequence[BreakoutPath], lo: float, hi: float,
                 theme: Theme) -> None:
    """Each completed path's event year right of its end, with a leader line when moved."""
    box = ax.get_position()
    x0_px = box.x1 * cv.W_PX
    y0_px, h_px = box.y0 * cv.H_PX, box.height * cv.H_PX
    ends = [float(p.values[-1] / p.values[0] - 1.0) for p in done]
    wish = [y0_px + (v - lo) / (hi - lo) * h_px for v in ends]
    room = int(h_px // LABEL_GAP_PX)
    chosen = list(range(len(done)))
    if len(chosen) > room:  # label the highest and the lowest ends that fit
        ranked = sorted(chosen, key=lambda i: ends[i])
        half = room // 2
        chosen = sorted(ranked[:half] + ranked[len(ranked) - (room - half):])
    ys = spread_labels([wish[i] for i in chosen], LABEL_GAP_PX, y0_px + LABEL_GAP_PX / 2,
                       y0_px + h_px - LABEL_GAP_PX / 2)
    pixels = IdentityTransform()
    for i, y in zip(chosen, ys, strict=True):
        fig.text(x0_px + 22, y, f"{done[i].event.year}", transform=pixels,
                 fontsize=ANNOTATION_PT, color=theme.muted, ha="left", va="center_baseline",
                 parse_math=False)
        fig.add_artist(Line2D([x0_px + 2, x0_px + 18], [wish[i], y], transform=pixels,
                              color=theme.past_paths, linewidth=1.0))


def _panel(fig: Figure, ax: Axes, paths: Sequence[BreakoutPath], horizon: int,
           colour: str, lo: float, hi: float, theme: Theme) -> list[Any]:
    """Past paths, their median (bold) and mean (dashed), live path; returns the handles
    ``[past, median, mean, live...]``."""
    done = [p for p in paths if not p.live and len(p.values) == horizon + 1]
    stack = np.vstack([p.values for p in done]) / 100.0 - 1.0
    x = np.arange(horizon + 1)
    ax.axhline(0.0, color=theme.muted, linewidth=1.2)
    h_past = None
    for row in stack:
        h_past, = ax.plot(x, row, color=theme.past_paths, linewidth=1.3, alpha=0.7)
    h_med, = ax.plot(x, np.median(stack, axis=0), color=colour, linewidth=4.0)
    h_mean, = ax.plot(x, stack.mean(axis=0), color=colour, linewidth=2.4,
                      linestyle=(0, (4, 2.5)))
    handles: list[Any] = [h_past, h_med, h_mean]
    for path in (p for p in paths if p.live):
        y = path.values / 100.0 - 1.0
        h_live, = ax.plot(np.arange(len(y)), y, color=theme.accent, linewidth=3.2, marker="o",
                          markersize=9, markevery=[len(y) - 1])
        handles.append(h_live)
    ax.set_xlim(0, horizon)
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(_month_ticks(horizon)))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: "0" if v == 0 else f"+{round(v / SESSIONS_PER_MONTH)}m"))
    cv.y_ticks(ax, 6)
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: pct(v, 0)))
    _label_years(fig, ax, done, lo, hi, theme)
    return handles


def _y_range(groups: Sequence[Sequence[BreakoutPath]], horizon: int) -> tuple[float, float]:
    values = [p.values / 100.0 - 1.0 for g in groups for p in g
              if p.live or len(p.values) == horizon + 1]
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    pad = (hi - lo) * 0.05 or 0.01
    return lo - pad, hi + pad


def breakouts_figure(data: BreakoutsInput, theme: Theme) -> Figure:
    """The breakouts figure; ChartInputError without any completed past event (in every panel
    drawn)."""
    names = {"spx": data.symbol_name, "rut": "Russell 2000"}
    groups = {"spx": data.paths, "rut": data.rut_paths}
    shown = ["spx", "rut"] if data.index == "both" else [data.index]
    stats = {k: calc_path_stats(groups[k], data.horizon) for k in shown}
    for key, st in stats.items():
        if st is None:
            raise ChartInputError(f"no completed breakout event to compare with "
                                  f"({names[key]})")
    colours = {"spx": theme.large_caps, "rut": theme.small_caps}
    months = round(data.horizon / SESSIONS_PER_MONTH)
    lo, hi = _y_range([groups[k] for k in shown], data.horizon)
    live = [p for p in groups[shown[0]] if p.live]
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        title = " and ".join(names[k] for k in shown)
        cv.add_header(fig, theme, f"{title} after a breakout")
        fig.text(cv.px_x(20), 1 - cv.px_y(56), f"Breakout = {data.event_label}; price returns",
                 ha="left", va="top", fontsize=cv.NOTE_PT, color=theme.muted)
        if len(shown) == 1:
            key = shown[0]
            st = stats[key]
            assert st is not None
            (ax,) = cv.grid_axes(fig, 1, 1, top_px=180, bottom_px=112, right_px=RIGHT_PX)
            handles = _panel(fig, ax, groups[key], data.horizon, colours[key], lo, hi, theme)
            labels = [f"{st.count} past events {st.first_year}–{st.last_year}: {st.hits} of "
                      f"{st.count} higher after {months}m", f"median {_pct(st.median)}",
                      f"mean {_pct(st.mean)}"]
            labels += [_live_label(p) for p in live]
            cv.header_legend(ax, handles[:len(labels)], labels, ncol=2)
            axes = [ax]
        else:
            axes = cv.grid_axes(fig, 1, 2, top_px=218, bottom_px=112, right_px=RIGHT_PX,
                                wspace=0.26, sharex=False)
            axes[1].tick_params(labelleft=False)  # same y scale as the left panel
            first = stats["spx"]
            assert first is not None
            shared: list[Any] = []
            for key, ax in zip(shown, axes, strict=True):
                st = stats[key]
                assert st is not None
                handles = _panel(fig, ax, groups[key], data.horizon, colours[key], lo, hi,
                                 theme)
                shared = shared or [handles[0], *handles[3:4]]
                box = ax.get_position()
                fig.text(box.x0, box.y1 + cv.px_y(44), f"{names[key]}: {st.hits} of "
                         f"{st.count} higher", fontsize=cv.NOTE_PT, fontweight="bold",
                         color=theme.text, ha="left", va="bottom")
                cv.header_legend(ax, handles[1:3], [f"median {_pct(st.median)}",
                                                    f"mean {_pct(st.mean)}"])
            shared_labels = [f"past events {first.first_year}–{first.last_year}, "
                             f"{months}m after each"]
            shared_labels += [f"live event {p.event.isoformat()} (day {len(p.values) - 1})"
                              for p in live][: len(shared) - 1]
            cv.key_row(fig, 20, cv.H_PX - 136, shared, shared_labels)
        for ax in axes:
            ax.set_xlabel("Months after the event", fontsize=cv.NOTE_PT, color=theme.muted)
        cv.add_footnote(fig, theme, data.footnote)
    return fig


def _live_label(path: BreakoutPath) -> str:
    y = path.values[-1] / path.values[0] - 1.0
    return f"live event {path.event.isoformat()}: day {len(path.values) - 1}, {_pct(y)} so far"

