"""What ``/chart`` and ``python -m bot chart`` both do with their input, written once.

:func:`parse_chart_request` checks the text input before anything is fetched (1–4 symbols; a
known period and kind; a ratio needs exactly two symbols) and raises
:class:`~bot.errors.BadInput`. :func:`build_chart_input` turns a market snapshot into the chart's
input: unknown symbols are refused, the as-of session is the latest last bar among the symbols
(the earliest for a ratio, which exists only where both do; a series ending earlier is named),
and every series is cut to the period on a common base session (:func:`custom_input`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from analytics.charts.choices import CUSTOM_KINDS, WINDOW_LABELS
from bot.errors import BadInput
from bot.validate import check_choice, check_known, parse_symbols

if TYPE_CHECKING:  # parsing needs no pandas; building the input imports it
    from analytics.charts.inputs import CustomInput
    from bot.market_data.snapshot import MarketSnapshot

PERIODS: tuple[str, ...] = tuple(WINDOW_LABELS)


@dataclass(frozen=True)
class ChartRequest:
    symbols: list[str]
    period: str = "1y"
    kind: str = "rebased"

    @property
    def params(self) -> dict[str, object]:
        """The render-cache parameters of this request."""
        return {"symbols": self.symbols, "period": self.period, "kind": self.kind}


def parse_chart_request(symbols: str, period: str = "1y", kind: str = "rebased") -> ChartRequest:
    """Checked input (see the module docstring); BadInput with a short message otherwise."""
    wanted = parse_symbols(symbols)
    period = check_choice("period", period, PERIODS)
    kind = check_choice("kind", kind, CUSTOM_KINDS)
    if kind == "ratio" and len(wanted) != 2:
        raise BadInput("A ratio chart needs exactly two symbols (first / second), "
                       "e.g. `IWM SPY`.")
    return ChartRequest(wanted, period, kind)


def check_symbols_held(request: ChartRequest, snap: MarketSnapshot) -> None:
    """BadInput naming the requested symbols the snapshot has no bars for."""
    wanted = request.symbols
    empty = [s for s in wanted if s in snap.bars and snap.bars[s].empty]
    check_known(wanted, [*snap.missing, *empty, *(s for s in wanted if s not in snap.bars)])


def build_chart_input(request: ChartRequest, snap: MarketSnapshot) -> CustomInput:
    """The chart input for ``request`` from ``snap`` (CPU work: run it off the event loop)."""
    from analytics.charts.build import custom_input
    from analytics.charts.inputs import Footnote
    from analytics.series import to_price

    check_symbols_held(request, snap)
    wanted = request.symbols
    ends = {s: snap.bars[s].index[-1].date() for s in wanted}
    # A ratio exists only where both series do; other kinds draw each series to its own end and
    # the footer names any that stop before the latest.
    asof = min(ends.values()) if request.kind == "ratio" else max(ends.values())
    lagging = tuple(f"{s} to {ends[s].isoformat()}" for s in wanted if ends[s] < asof)
    footnote = Footnote(asof=asof, stale=snap.stale, source=snap.source, lagging=lagging)
    prices = [(s, to_price(snap.bars[s])) for s in wanted]
    return custom_input(prices, request.kind, request.period, asof, footnote)
