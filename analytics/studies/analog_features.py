"""The feature vector of "days like today" (:mod:`analytics.studies.analogs`), one row per session.

Every row uses only data dated on or before its own session (rolling means, ``cummax``, shifts
and as-of joins look backwards only), so a past session is described exactly as it looked then.
The calendar is the sessions both ^RUT and ^GSPC closed (``ratio = RUT / SPX``).

Features (key: formula; definitions of :mod:`analytics.leadership`):
- ``above_200d``: 1 when the ratio is above its 200-day average, else 0 (NaN before 200 values);
- ``rising_200d``: 1 when the 200-day average is above its value 21 sessions earlier, else 0;
  together these two are the four-state *trend regime*;
- ``vs_sma200`` / ``vs_sma50``: ratio / average - 1;
- ``streak``: the leadership streak, signed (+n: n sessions above the 50-day average, -n below,
  0 when level), compressed as ``sign(n) * log(1 + |n|)`` so a 400-session streak is not 20x a
  20-session one;
- ``drawdown``: Russell 2000 close / its record close so far - 1 (0 on a record; records as
  :func:`analytics.records.to_record_flags`, on the ^RUT's own sessions). Usable only
  when the ^RUT history reaches the index's inception (``history_complete``); otherwise it is
  only "below the highest close since the data starts" and is left out of the distance;
- ``rel_1m`` / ``rel_3m``: ratio now / ratio 21 (63) sessions earlier - 1;
- drivers, optional: ``tnx_1m`` = change of the 10-year yield (^TNX, in %) over 21 of its own
  observations, in basis points; ``vix`` = the VIX close. Each is read as of the session (its
  last observation on or before it, no older than :data:`DRIVER_MAX_AGE_DAYS`), NaN otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.leadership import LONG_WINDOW, SHORT_WINDOW, SLOPE_SESSIONS
from analytics.records import to_record_flags

DRIVER_MAX_AGE_DAYS = 7


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its weight in the distance and whether it is divided by a robust scale
    (binary regime flags are not: a flip costs 1). ``core`` features must be present on both
    dates; optional (driver) features are used where present (see ``analogs``)."""

    key: str
    label: str
    weight: float
    scaled: bool = True
    core: bool = True


CORE_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("above_200d", "RUT/SPX above its 200-day average", 0.5, scaled=False),
    FeatureSpec("rising_200d", "200-day average rising", 0.5, scaled=False),
    FeatureSpec("vs_sma200", "RUT/SPX vs 200-day average", 1.0),
    FeatureSpec("vs_sma50", "RUT/SPX vs 50-day average", 1.0),
    FeatureSpec("streak", "leadership streak (signed log sessions)", 1.0),
    FeatureSpec("drawdown", "Russell 2000 below its record", 1.0),
    FeatureSpec("rel_1m", "RUT/SPX 1-month change", 1.0),
    FeatureSpec("rel_3m", "RUT/SPX 3-month change", 1.0),
)
DRIVER_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("tnx_1m", "10-year yield 1-month change (bp)", 0.5, core=False),
    FeatureSpec("vix", "VIX level", 0.5, core=False),
)
#: driver feature key → the symbol it is read from
DRIVER_SYMBOLS: Mapping[str, str] = {"tnx_1m": "^TNX", "vix": "^VIX"}


def to_aligned(rut: pd.Series, spx: pd.Series) -> pd.DataFrame:
    """``rut``, ``spx`` and ``ratio`` on the sessions both closed (NaN rows dropped), sorted."""
    frame = pd.concat({"rut": rut.dropna(), "spx": spx.dropna()}, axis=1, join="inner")
    frame = frame[(frame["rut"] > 0) & (frame["spx"] > 0)].sort_index()
    frame["ratio"] = frame["rut"] / frame["spx"]
    return frame.astype("float64")


def to_signed_streak(ratio: pd.Series, sma50: pd.Series) -> pd.Series:
    """+n / -n: sessions in a row with the ratio above / below its 50-day average, ending at
    each row; 0 when level (within 1e-12, as :mod:`analytics.leadership`); NaN without sma50."""
    r, m = ratio.to_numpy(), sma50.to_numpy()
    side = np.where(np.isclose(r, m, rtol=1e-12, atol=0.0), 0.0, np.sign(r - m))
    side[np.isnan(m)] = np.nan
    sides = pd.Series(side, index=ratio.index)
    runs = (sides != sides.shift()).cumsum()
    count = sides.groupby(runs).cumcount() + 1
    return (sides * count).astype("float64")


def _driver(series: pd.Series, index: pd.DatetimeIndex, key: str) -> pd.Series:
    clean = series.dropna().sort_index()
    clean = clean[~clean.index.duplicated(keep="last")]
    value = (clean - clean.shift(21)) * 100.0 if key == "tnx_1m" else clean
    return value.reindex(index, method="ffill",
                         tolerance=pd.Timedelta(days=DRIVER_MAX_AGE_DAYS)).astype("float64")


def to_analog_features(rut: pd.Series, spx: pd.Series,
                       drivers: Mapping[str, pd.Series] | None = None) -> pd.DataFrame:
    """One row per common session, the columns of :data:`CORE_FEATURES` (then any driver
    feature whose symbol is in ``drivers``: keys of :data:`DRIVER_SYMBOLS` values, e.g.
    ``{"^TNX": tnx}``), plus ``ratio``, ``rut``, ``spx`` and ``streak_sessions`` for display.

    Row ``t`` depends only on data dated ≤ ``t`` (see the module docstring). Empty in → empty.
    """
    frame = to_aligned(rut, spx)
    ratio = frame["ratio"]
    sma50 = ratio.rolling(SHORT_WINDOW).mean()
    sma200 = ratio.rolling(LONG_WINDOW).mean()
    slope = sma200 / sma200.shift(SLOPE_SESSIONS) - 1.0
    out = pd.DataFrame(index=frame.index)
    out["above_200d"] = (ratio > sma200).astype("float64").where(sma200.notna())
    out["rising_200d"] = (slope > 0).astype("float64").where(slope.notna())
    out["vs_sma200"] = ratio / sma200 - 1.0
    out["vs_sma50"] = ratio / sma50 - 1.0
    streak = to_signed_streak(ratio, sma50)
    out["streak"] = np.sign(streak) * np.log1p(streak.abs())
    own = rut.dropna().sort_index()
    record = own.where(to_record_flags(own)).ffill()       # the record close so far
    out["drawdown"] = frame["rut"] / record.reindex(frame.index) - 1.0
    out["rel_1m"] = ratio / ratio.shift(21) - 1.0
    out["rel_3m"] = ratio / ratio.shift(63) - 1.0
    for spec in DRIVER_FEATURES:
        symbol = DRIVER_SYMBOLS[spec.key]
        if drivers and symbol in drivers and not drivers[symbol].dropna().empty:
            out[spec.key] = _driver(drivers[symbol], pd.DatetimeIndex(out.index), spec.key)
    out["streak_sessions"] = streak
    out["ratio"], out["rut"], out["spx"] = ratio, frame["rut"], frame["spx"]
    return out


def calc_robust_scale(values: pd.Series) -> float:
    """``1.4826 * median(|x - median(x)|)`` (the MAD, scaled to a normal's standard deviation)
    of the non-NaN values; the standard deviation when the MAD is 0; 1.0 when that is 0 too or
    fewer than 2 values exist."""
    x = values.dropna().to_numpy(dtype="float64")
    if x.size < 2:
        return 1.0
    mad = 1.4826 * float(np.median(np.abs(x - np.median(x))))
    if mad > 0:
        return mad
    std = float(x.std(ddof=1))
    return std if std > 0 else 1.0
