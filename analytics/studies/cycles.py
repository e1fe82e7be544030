"""Leadership cycles: swings of the RUT/SPX ratio between small-cap and large-cap leadership.

Rule (a "swing" or zig-zag rule on the ratio ``R = RUT / SPX``, common dates only, NaNs dropped):
- Start at the first ratio. A small-cap regime is confirmed once R rises ``swing`` (default 15%)
  above the running low; a large-cap regime once R falls ``swing`` below the running high.
- Within a regime the running extreme is tracked; the regime ends at that extreme (its peak for
  small caps, its trough for large caps) once R reverses by ``swing`` from it, and the next regime
  starts there. Regimes are dated at the actual turning points, not when the turn was confirmed.
- The first segment (before any ``swing`` move) belongs to whichever side its first confirmed
  move shows. The last regime is *open*: it runs from its start to ``asof`` and is provisional.
- Per regime: start, end, sessions (rows of R), years (sessions / 252), relative return
  ``R_end / R_start - 1``, and each index's price return. ``leader`` is "small" or "large".
Why not the sign of the 12-month relative return: it dates every turn a year late and flips on
noise near zero; the swing rule's regimes start and end where the ratio actually turned.
Only data on or before ``asof`` is read. Fewer than 2 common closes → no regimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

Leader = Literal["small", "large"]
SESSIONS_PER_YEAR = 252


@dataclass(frozen=True)
class Regime:
    """One leadership regime; ``open`` only for the last one (provisional, ends at ``asof``)."""

    leader: Leader
    start: date
    end: date
    sessions: int
    years: float
    relative_return: float
    rut_return: float
    spx_return: float
    open: bool = False


@dataclass(frozen=True)
class CycleStudy:
    """Regimes since the data begins, oldest first; ``ratio`` (RUT/SPX, cut at asof) for charts.

    ``current_extreme_date`` / ``current_from_extreme``: the open regime's best point so far and
    the ratio's change since it (≤ 0 for small caps, ≥ 0 for large caps); a move of ``swing``
    against the leader from there would close the regime.
    """

    asof: date
    swing: float
    regimes: tuple[Regime, ...]
    current: Regime | None
    current_extreme_date: date | None
    current_from_extreme: float | None
    ratio: pd.Series = field(compare=False, repr=False)


def to_ratio(rut: pd.Series, spx: pd.Series, asof: date) -> pd.Series:
    """RUT/SPX on their common dates up to ``asof`` (NaN rows dropped)."""
    cut = pd.Timestamp(asof)
    both = pd.concat([rut.loc[:cut], spx.loc[:cut]], axis=1, join="inner").dropna()
    return (both.iloc[:, 0] / both.iloc[:, 1]).rename("rut_spx")


def _turns(values: np.ndarray, swing: float) -> tuple[list[int], int, int]:
    """Turning-point positions (first = 0), the open regime's direction (+1/-1, 0 = none yet)
    and the position of its running extreme."""
    turns = [0]
    direction, ext, anchor_lo, anchor_hi = 0, 0, 0, 0
    for i in range(1, values.size):
        v = values[i]
        if direction == 0:
            if v < values[anchor_lo]:
                anchor_lo = i
            if v > values[anchor_hi]:
                anchor_hi = i
            if v >= values[anchor_lo] * (1 + swing):
                direction, ext = 1, i
                if anchor_lo != 0:
                    turns.append(anchor_lo)
            elif v <= values[anchor_hi] * (1 - swing):
                direction, ext = -1, i
                if anchor_hi != 0:
                    turns.append(anchor_hi)
        elif direction == 1:
            if v > values[ext]:
                ext = i
            elif v <= values[ext] * (1 - swing):
                turns.append(ext)
                direction, ext = -1, i
        else:
            if v < values[ext]:
                ext = i
            elif v >= values[ext] * (1 + swing):
                turns.append(ext)
                direction, ext = 1, i
    return turns, direction, ext


def calc_cycles(rut: pd.Series, spx: pd.Series, asof: date, *, swing: float = 0.15
                ) -> CycleStudy:
    """Leadership regimes of RUT/SPX up to ``asof`` under the swing rule (module docstring)."""
    if not 0 < swing < 1:
        raise ValueError("swing must be between 0 and 1 (a fraction, e.g. 0.15)")
    ratio = to_ratio(rut, spx, asof)
    values = ratio.to_numpy(dtype="float64")
    if values.size < 2:
        return CycleStudy(asof=asof, swing=swing, regimes=(), current=None,
                          current_extreme_date=None, current_from_extreme=None, ratio=ratio)
    turns, direction, ext = _turns(values, swing)
    cut = pd.Timestamp(asof)
    both = pd.concat([rut.loc[:cut], spx.loc[:cut]], axis=1, join="inner").dropna()
    r, s = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
    last = values.size - 1
    bounds = [*turns, last]
    regimes = []
    for k, (a, b) in enumerate(pairwise(bounds)):
        rel = float(values[b] / values[a] - 1)
        is_last = k == len(bounds) - 2
        if is_last and direction != 0:
            leader: Leader = "small" if direction == 1 else "large"
        else:
            leader = "small" if rel > 0 else "large"
        regimes.append(Regime(
            leader=leader, start=ratio.index[a].date(), end=ratio.index[b].date(),
            sessions=int(b - a), years=round((b - a) / SESSIONS_PER_YEAR, 2),
            relative_return=rel, rut_return=float(r[b] / r[a] - 1),
            spx_return=float(s[b] / s[a] - 1), open=is_last,
        ))
    current = regimes[-1] if regimes else None
    extreme_date = ratio.index[ext].date() if direction != 0 else None
    from_extreme = float(values[last] / values[ext] - 1) if direction != 0 else None
    return CycleStudy(asof=asof, swing=swing, regimes=tuple(regimes), current=current,
                      current_extreme_date=extreme_date, current_from_extreme=from_extreme,
                      ratio=ratio)
