"""The trend regime the leadership chart shades, with hysteresis so it does not flicker.

Raw rule (``analytics.leadership``): the RUT/SPX ratio above its 200-day average is a small-cap
trend, below it a large-cap trend. Near the average that rule flips almost daily (7 flips in
the 21 sessions to 2026-08-20). The shaded regime only changes when the ratio has closed more
than :data:`BAND` (1%) beyond the average on the other side for :data:`CONFIRM` (5) sessions
in a row; the first known value takes the raw side. On 1987–2026 history this gives at most 2
changes in any 21 sessions (raw: 10), see ``tests/analytics/test_trend_shading.py``.

Pure and causal: state ``i`` depends only on values ``0..i`` (appending data never changes an
earlier state). Computed over the whole input, so a chart passes the sessions before its window
too and the first day shown already carries the history's regime.

What the chart draws (:func:`to_display_states`) adds one rule so the chart never contradicts
the verdict's 200-day call (``analytics.verdict``: ratio above its 200-day average = small caps,
at or below = large caps, no hysteresis): the latest run is always the raw side at ``asof``,
from the session that raw run began. At most 3 changes in any 21 sessions since 1987.
"""

from __future__ import annotations

import numpy as np

BAND = 0.01
CONFIRM = 5
SMALL, LARGE, UNKNOWN = 1, -1, 0


def to_trend_states(ratio: np.ndarray, average: np.ndarray, *, band: float = BAND,
                    confirm: int = CONFIRM) -> np.ndarray:
    """Per value: :data:`SMALL` (1), :data:`LARGE` (-1) or :data:`UNKNOWN` (0, average NaN or
    not yet known). ``ratio`` and ``average`` are aligned float arrays.

    A change needs ``confirm`` consecutive values with ``ratio / average - 1`` beyond ``band``
    on the other side; a value inside the band (or on the current side) resets the count.
    """
    if confirm < 1 or band < 0:
        raise ValueError("confirm must be >= 1 and band >= 0")
    rel = np.asarray(ratio, dtype="float64") / np.asarray(average, dtype="float64") - 1.0
    states = np.zeros(len(rel), dtype=int)
    current, run = UNKNOWN, 0
    for i, x in enumerate(rel):
        if not np.isfinite(x):
            states[i] = current
            continue
        if current == UNKNOWN:
            current = SMALL if x > 0 else LARGE
        else:
            other = x > band if current == LARGE else x < -band
            run = run + 1 if other else 0
            if run >= confirm:
                current, run = -current, 0
        states[i] = current
    return states


def count_flips(states: np.ndarray) -> int:
    """Changes between two known states (UNKNOWN → known is not a flip)."""
    s = np.asarray(states)
    return int(np.sum((s[1:] != s[:-1]) & (s[1:] != UNKNOWN) & (s[:-1] != UNKNOWN)))


def to_display_states(ratio: np.ndarray, average: np.ndarray, *, band: float = BAND,
                      confirm: int = CONFIRM) -> np.ndarray:
    """:func:`to_trend_states`, with the final run replaced by the raw side of the last value
    (ratio > average: SMALL, else LARGE) from where that raw run began, when they differ."""
    states = to_trend_states(ratio, average, band=band, confirm=confirm)
    rel = np.asarray(ratio, dtype="float64") / np.asarray(average, dtype="float64") - 1.0
    if len(rel) == 0 or not np.isfinite(rel[-1]):
        return states
    raw = np.where(np.isfinite(rel), np.where(rel > 0, SMALL, LARGE), UNKNOWN)
    if states[-1] != raw[-1]:
        differs = np.flatnonzero(raw != raw[-1])
        start = int(differs[-1]) + 1 if len(differs) else 0
        states = states.copy()
        states[start:] = raw[-1]
    return states
