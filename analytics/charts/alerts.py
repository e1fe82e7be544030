"""Alerts chart: one batch at a glance. Top: the index over the last year with the session's
close marked, the levels crossed (dotted) and the record line when a record fired. Bottom:
RUT/SPX with its 50- and 200-day averages, the session marked when a ratio event fired."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from analytics.charts import canvas as cv
from analytics.charts.inputs import AlertsInput
from analytics.charts.theme import ANNOTATION_PT, Theme


def alerts_figure(data: AlertsInput, theme: Theme) -> Figure:
    """The alerts figure; ChartInputError for fewer than 2 prices."""
    prices = cv.clean_series(data.prices, data.name)
    ratio_all = cv.clean_series(data.ratio, "RUT/SPX")
    sma50 = ratio_all.rolling(50).mean()
    sma200 = ratio_all.rolling(200).mean()
    first = prices.index[0]
    ratio, sma50, sma200 = ratio_all.loc[first:], sma50.loc[first:], sma200.loc[first:]
    x, y = cv.to_days(prices.index), prices.to_numpy()
    colour = theme.small_caps if data.name == "Russell 2000" else theme.large_caps
    with cv.styled(theme):
        fig = cv.new_figure(theme)
        cv.add_header(fig, theme, data.title)
        if data.subtitle:  # one event: its title already says it
            fig.text(cv.px_x(20), 1 - cv.px_y(56), data.subtitle, ha="left", va="top",
                     fontsize=cv.NOTE_PT + 1, color=theme.muted)
        top, bottom = cv.grid_axes(fig, 2, 1, top_px=150, bottom_px=84, height_ratios=[3, 2],
                                   hspace=0.12)
        h_price, = top.plot(x, y, color=colour, linewidth=2.2)
        handles, labels = [h_price], [f"{data.name} {cv.number_label(float(y[-1]))}"]
        lo, hi = float(y.min()), float(y.max())
        for level in data.levels:
            top.axhline(level, color=theme.muted, linewidth=1.6, linestyle=(0, (1.5, 3)))
            # Under its line: the record line (dashed) often sits just above a crossed level.
            top.text(x[0] + 0.01 * (x[-1] - x[0]), level, f" {level:,.0f}", va="top",
                     ha="left", fontsize=ANNOTATION_PT, color=theme.muted)
            lo, hi = min(lo, level), max(hi, level)
        if data.record_close is not None:
            h_rec = top.axhline(data.record_close, color=theme.accent, linewidth=1.4,
                                linestyle=(0, (6, 4)))
            handles.append(h_rec)
            labels.append("record close")
        if any(m.panel == "price" for m in data.marks):
            h_mark, = top.plot([x[-1]], [y[-1]], linestyle="none", marker="o", markersize=13,
                               color=theme.accent, markeredgewidth=0)
            handles.append(h_mark)
            labels.append(f"alert {data.session.isoformat()}")
        span = hi - lo
        top.set_ylim(lo - 0.05 * span, hi + 0.12 * span)
        cv.y_ticks(top, 4, ",.0f")
        cv.header_legend(top, handles, labels)
        rx = cv.to_days(ratio.index)
        bottom.plot(rx, ratio.to_numpy(), color=theme.text, linewidth=1.6)
        h50, = bottom.plot(rx, sma50.to_numpy(), color=theme.small_caps, linewidth=1.4,
                           linestyle=(0, (4, 2)))
        h200, = bottom.plot(rx, sma200.to_numpy(), color=theme.large_caps, linewidth=1.8)
        if any(m.panel == "ratio" for m in data.marks) and len(ratio):
            bottom.plot([rx[-1]], [float(ratio.iloc[-1])], linestyle="none", marker="o",
                        markersize=11, color=theme.accent, markeredgewidth=0)
        vals = np.concatenate([ratio.to_numpy(), sma200.dropna().to_numpy()])
        if vals.size:
            pad = 0.08 * (float(vals.max()) - float(vals.min()) or 1e-3)
            bottom.set_ylim(float(vals.min()) - pad, float(vals.max()) + pad)
        bottom.text(0.0, 1.02, "RUT/SPX, 50-day (dashed) and 200-day averages",
                    transform=bottom.transAxes, fontsize=ANNOTATION_PT, color=theme.muted,
                    ha="left", va="bottom")
        del h50, h200
        cv.y_ticks(bottom, 3, ".3f")
        top.set_xlim(x[0], x[-1])
        cv.date_axis(bottom)
        top.tick_params(labelbottom=False)
        cv.add_footnote(fig, theme, data.footnote)
    return fig
