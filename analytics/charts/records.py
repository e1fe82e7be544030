"""Records chart: the index with its record closes marked, the record line, the nearest round
level, and the current drought (last record → as-of) shaded and annotated with its length.

On a record day there is no open drought; the drought that just ended is shaded instead. The
record line is the highest close, so the band above it is free for labels (no overlap with data).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from analytics.charts import canvas as cv
from analytics.charts.inputs import RecordsInput
from analytics.charts.theme import ANNOTATION_PT, Theme


def _days(n: int) -> str:
    return f"{n:,} day{'s' if n != 1 else ''}"


def records_figure(data: RecordsInput, theme: Theme) -> Figure:
    """The records figure; ChartInputError for fewer than 2 prices."""
    prices = cv.clean_series(data.prices, data.name)
    x = cv.to_days(prices.index)
    y = prices.to_numpy()
    last = float(y[-1])
    below = last / data.record_close - 1.0
    # Without the index's full history a "record" is only the highest close since the data starts:
    # the title says so once; the other labels just say "high".
    full = data.history_complete
    since = "record" if full else "high"
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        if not full:
            start = data.history_start.isoformat() if data.history_start else "the data start"
            if data.drought_start is not None:
                title = f"{data.name}: {_days(data.days_since)} since its high (data from {start})"
            elif data.previous_drought is not None:
                gap = (data.previous_drought[1] - data.previous_drought[0]).days
                title = f"{data.name} at its highest since {start}, first in {_days(gap)}"
            else:
                title = f"{data.name} at its highest since {start}"
        elif data.drought_start is not None:
            title = f"{data.name}: {_days(data.days_since)} since its last record close"
        elif data.previous_drought is not None:
            gap = (data.previous_drought[1] - data.previous_drought[0]).days
            title = f"{data.name} closes at a record, its first in {_days(gap)}"
        else:
            title = f"{data.name} closes at a record"
        cv.add_header(fig, theme, title)
        (ax,) = cv.grid_axes(fig, 1, 1, top_px=112, bottom_px=84)
        shade_from = data.drought_start or (data.previous_drought[0]
                                             if data.previous_drought else None)
        if shade_from is not None:
            a = max(cv.day_number(shade_from), x[0])
            b = x[-1] if data.drought_start else cv.day_number(data.previous_drought[1])  # type: ignore[index]
            ax.axvspan(a, b, color=theme.muted, alpha=0.14, linewidth=0)
        h_price, = ax.plot(x, y, color=theme.small_caps)
        rec_idx = pd.DatetimeIndex([pd.Timestamp(d) for d in data.record_dates])
        rec = prices.reindex(rec_idx).dropna()
        h_rec, = ax.plot(cv.to_days(rec.index), rec.to_numpy(), linestyle="none", marker="o",
                         markersize=5.5, color=theme.accent, markeredgewidth=0)
        ax.axhline(data.record_close, color=theme.accent, linewidth=1.6, linestyle=(0, (6, 4)))
        handles = [h_price, h_rec]
        where = f"at its {since}" if below >= 0 else f"{below:+.1%} vs {since}"
        labels = [f"{data.name}  {cv.number_label(last)} ({where})",
                  "record closes" if full else "new highs"]
        top = max(float(y.max()), data.record_close)
        bottom = float(y.min())
        if data.round_level is not None:
            h_round = ax.axhline(data.round_level, color=theme.muted, linewidth=1.6,
                                 linestyle=(0, (1.5, 3)))
            handles.append(h_round)
            labels.append(f"{cv.number_label(data.round_level)} level")
            top, bottom = max(top, data.round_level), min(bottom, data.round_level)
        span = top - bottom
        ax.set_ylim(bottom - 0.04 * span, top + 0.16 * span)
        ax.set_xlim(x[0], x[-1])
        cv.header_legend(ax, handles, labels)
        label_y = top + 0.06 * span
        ax.text(x[0] + 0.01 * (x[-1] - x[0]), label_y,
                f"{since.capitalize()} {data.record_close:,.2f} on "
                f"{data.record_date.isoformat()}", fontsize=ANNOTATION_PT,
                color=theme.accent, va="center", ha="left")
        if data.drought_start is not None:
            ax.text(x[-1] - 0.01 * (x[-1] - x[0]), label_y,
                    f"{_days(data.days_since)} without a {'record' if full else 'new high'}",
                    fontsize=ANNOTATION_PT, color=theme.text, va="center", ha="right",
                    fontweight="bold")
        elif data.previous_drought is not None:
            ax.text(x[-1] - 0.01 * (x[-1] - x[0]), label_y,
                    f"{'drought' if full else 'gap'} ended: "
                    f"{data.previous_drought[0].isoformat()} → "
                    f"{data.previous_drought[1].isoformat()}",
                    fontsize=ANNOTATION_PT, color=theme.text, va="center", ha="right")
        cv.y_ticks(ax, 5, ",.0f")
        cv.date_axis(ax)
        cv.add_footnote(fig, theme, data.footnote)
    return fig
