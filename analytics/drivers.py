"""Drivers of small-cap relative performance: each reading, its change, and its measured relation.

For each driver (rates, credit, dollar, volatility, sector ratios, economy), one reading per
underlying series:
- ``level`` on the reading's own last date on or before ``asof`` (``reading.asof``; it may be
  earlier than the panel's ``asof`` when a symbol ends sooner, and is then labelled);
- ``change_1m`` / ``change_3m``: over 21 / 63 observations for daily series (economy: 1 and 3
  months of observations; GDP has no 1M change). Units: ``bp`` for yields and spreads
  (``(y1 - y0) * 100``, yields in %), ``fraction`` for prices and ratios (``p1 / p0 - 1``),
  ``pts`` for the VIX, ``pp`` for rates in % (unemployment, GDP growth);
- ``zscore``: ``(level - mean) / std`` over the past year of levels (None with < 20 levels);
- ``relation``: over ``lookback_weeks`` (default 156) of WEEKLY (Friday) changes, the
  correlation of the weekly RUT/SPX relative return with the driver's weekly change (economy:
  per observation), with its n and 95% interval (:mod:`analytics.relation`: Newey-West HAC,
  never narrower than the conventional one); needs 26 pairs;
- ``call``: *tailwind* when the relation is reliable (its interval excludes zero) and the 1M
  move and the correlation point the same way for small caps (``sign(change) * sign(corr) >
  0``), *headwind* when opposite; *neutral* when there is no reliable relation or the 1M move is
  under half a typical 1M move (std of 1M changes over 3 years); *descriptive* for the
  small-cap baskets (:data:`SAME_BASKET`: KRE/SPY, IWN/IWO), whose relation to RUT/SPX is partly
  mechanical — shown, never called, never counted; *absent* when the data is missing.
A call says what the driver moved with, not what drives small caps, and is not a forecast
(``docs/drivers.md`` has the walk-forward record). The 10y − 3m curve is not a reading: it is
the 10-year (^TNX) minus the 3-month (^IRX) reading, both already shown.
``DriversPanel`` counts tailwinds and headwinds among readings no older than ``MAX_AGE_DAYS``
for their cadence (older ones are listed, labelled, and left out of the count); ``score`` =
tailwinds − headwinds is the composite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

from analytics.economy import ECONOMY_SPECS, EconomySpec, period_of, to_available
from analytics.relation import MIN_PAIRS, Relation, describe_relation, relation_of
from analytics.relation import calc_relation as calc_relation  # re-exported
from analytics.series import to_price

Call = Literal["tailwind", "headwind", "neutral", "descriptive", "absent"]
Kind = Literal["yield", "ratio", "price", "points", "rate"]
LOOKBACK_WEEKS = 156
MAX_AGE_DAYS = {252: 7, 52: 14, 12: 50, 4: 130}
#: Small-cap baskets themselves: regional banks (KRE, mostly small and mid caps) and Russell
#: 2000 value/growth (IWN/IWO). Their relation to RUT/SPX is partly mechanical, so they are
#: shown as descriptive readings and never called or counted.
SAME_BASKET = frozenset({"regional_banks", "small_value_growth"})


@dataclass(frozen=True)
class DriverReading:
    """One driver as of ``asof`` (its own last observation); see the module docstring."""

    key: str
    name: str
    source: str
    level_unit: str
    change_unit: str
    level: float | None
    asof: date | None
    period: date | None
    stale: bool
    change_1m: float | None
    change_3m: float | None
    zscore: float | None
    relation: Relation | None
    call: Call
    reason: str


@dataclass(frozen=True)
class DriversPanel:
    """Every reading plus the composite count (fresh readings only)."""

    asof: date
    lookback_weeks: int
    readings: tuple[DriverReading, ...]
    tailwinds: int
    headwinds: int
    neutral: int
    absent: int
    not_counted: tuple[str, ...]
    summary: str
    descriptive: tuple[str, ...] = ()

    @property
    def score(self) -> int:
        """The composite: tailwinds − headwinds among counted readings."""
        return self.tailwinds - self.headwinds


@dataclass(frozen=True)
class _Spec:
    key: str
    name: str
    short: str
    kind: Kind
    symbols: tuple[str, ...]


MARKET_SPECS: tuple[_Spec, ...] = (
    _Spec("ten_year", "10-year yield", "10y yield", "yield", ("^TNX",)),
    _Spec("three_month", "3-month bill yield", "3m bill yield", "yield", ("^IRX",)),
    _Spec("credit", "Credit (HYG/LQD)", "HYG/LQD", "ratio", ("HYG", "LQD")),
    _Spec("dollar", "Dollar (UUP)", "the dollar", "price", ("UUP",)),
    _Spec("volatility", "Volatility (VIX)", "the VIX", "points", ("^VIX",)),
    _Spec("regional_banks", "Regional banks (KRE/SPY)", "KRE/SPY", "ratio",
          ("KRE", "SPY")),
    _Spec("industrials", "Industrials (XLI/SPY)", "XLI/SPY", "ratio", ("XLI", "SPY")),
    _Spec("small_value_growth", "Small value/growth (IWN/IWO)", "IWN/IWO", "ratio",
          ("IWN", "IWO")),
    _Spec("cyclicals_defensives", "Cyclicals/defensives (XLY/XLP)", "XLY/XLP", "ratio",
          ("XLY", "XLP")),
)
CREDIT_SPREAD = "BAMLH0A0HYM2"
UNITS: dict[Kind, tuple[str, str]] = {"yield": ("%", "bp"), "ratio": ("ratio", "fraction"),
                                      "price": ("price", "fraction"), "points": ("pts", "pts"),
                                      "rate": ("%", "pp")}


def _fmt(value: float, kind: Kind) -> str:
    size = abs(value)
    if kind == "yield":
        return f"{size:.0f} bp"
    if kind in ("ratio", "price"):
        return f"{size * 100:.1f}%"
    if kind == "rate":
        return f"{size:.1f} pp" if size >= 0.1 else f"{size:.2f} pp"
    return f"{size:.1f} pts"


def to_market_levels(bars: Mapping[str, pd.DataFrame], key: str, asof: date,
                     *, fred: Mapping[str, pd.Series] | None = None) -> tuple[pd.Series, str]:
    """(the driver's level series up to ``asof``, its source label); KeyError when a symbol or
    the key is missing. Ratios and the curve use common dates only."""
    spec = next(s for s in MARKET_SPECS if s.key == key)
    cut = pd.Timestamp(asof)
    if key == "credit" and _use_spread(bars, fred, asof):
        assert fred is not None
        return fred[CREDIT_SPREAD].loc[:cut].dropna().astype("float64"), f"FRED {CREDIT_SPREAD}"
    parts = [to_price(bars[s]).loc[:cut] for s in spec.symbols]
    if len(parts) == 1:
        return parts[0], spec.symbols[0]
    both = pd.concat(parts, axis=1, join="inner").dropna()
    return both.iloc[:, 0] / both.iloc[:, 1], "/".join(spec.symbols)


def _use_spread(bars: Mapping[str, pd.DataFrame], fred: Mapping[str, pd.Series] | None,
                asof: date) -> bool:
    """The FRED high-yield spread is used for credit when given and fresh (within 7 days of
    ``asof``), or when HYG/LQD are missing; otherwise HYG/LQD."""
    if fred is None or CREDIT_SPREAD not in fred:
        return False
    spread = fred[CREDIT_SPREAD].loc[: pd.Timestamp(asof)].dropna()
    if spread.empty:
        return False
    if any(s not in bars or bars[s].empty for s in ("HYG", "LQD")):
        return True
    return (pd.Timestamp(asof) - spread.index[-1]).days <= MAX_AGE_DAYS[252]


def to_relative(bars: Mapping[str, pd.DataFrame], asof: date) -> pd.Series:
    """RUT/SPX price ratio on common dates up to ``asof``."""
    cut = pd.Timestamp(asof)
    both = pd.concat([to_price(bars["^RUT"]).loc[:cut], to_price(bars["^GSPC"]).loc[:cut]],
                     axis=1, join="inner").dropna()
    return both.iloc[:, 0] / both.iloc[:, 1]


def _diff(values: np.ndarray, lag: int, kind: Kind) -> np.ndarray:
    """Changes over ``lag`` observations, aligned with ``values[lag:]`` (empty if too short)."""
    if values.size <= lag:
        return np.zeros(0)
    a, b = values[:-lag], values[lag:]
    if kind == "yield":
        return (b - a) * 100.0
    if kind in ("ratio", "price"):
        return b / a - 1.0
    return b - a


def _week_ids(index: pd.DatetimeIndex) -> np.ndarray:
    """Saturday–Friday week number of each date (1970-01-03 was a Saturday)."""
    return (index.to_numpy().astype("datetime64[D]").astype(np.int64) - 2) // 7


def _weekly_changes(values: np.ndarray, weeks: np.ndarray, kind: Kind
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(week ids, change from the previous week's last value to this week's last value)."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    last = np.append(weeks[1:] != weeks[:-1], True)
    ids, closes = weeks[last], values[last]
    return ids[1:], _diff(closes, 1, kind)


def _move(change: float, kind: Kind) -> str:
    """``"up 20 bp in a month"`` / ``"unchanged over the month"``."""
    if change == 0:
        return "unchanged over the month"
    return f"{'up' if change > 0 else 'down'} {_fmt(change, kind)} in a month"


def _call(kind: Kind, short: str, change: float | None, typical: float | None,
          relation: Relation | None, *, descriptive: bool = False) -> tuple[Call, str]:
    known = change is not None and np.isfinite(change)
    if descriptive:
        stats = f" ({describe_relation(relation)})" if relation is not None else ""
        what = (f"{short} {_move(change, kind)}" if known and change is not None
                else short)
        return "descriptive", (f"{what}; itself a small-cap basket, so its relation to small "
                               f"caps is partly mechanical{stats}: descriptive, not counted")
    if change is None or not known:
        return "neutral", f"{short}: not enough history for a 1-month change"
    moved = f"{short} {_move(change, kind)}"
    if change == 0:
        return "neutral", moved
    if relation is None:
        return "neutral", f"{moved}; too little overlap with small caps to measure a relation"
    stats = describe_relation(relation)
    way = "with" if relation.corr > 0 else "against"
    if not relation.reliable:
        return "neutral", f"{moved}; no reliable relation to small caps ({stats})"
    if typical is not None and abs(change) < 0.5 * typical:
        return "neutral", (f"{moved}, a small move (typical {_fmt(typical, kind)}); it has "
                           f"moved {way} small caps ({stats})")
    helps = (change > 0) == (relation.corr > 0)
    side = "outperformance" if helps else "underperformance"
    return ("tailwind" if helps else "headwind",
            f"{moved}; it has moved {way} small caps ({stats}), so this move went with "
            f"small-cap {side}")


def _reading(key: str, name: str, short: str, kind: Kind, source: str, levels: pd.Series,
             relative: pd.Series, asof: date, *, per_year: int, lag_1m: int | None,
             lag_3m: int, lookback_weeks: int, period: date | None = None,
             level_unit: str | None = None) -> DriverReading:
    """One reading (see the module docstring); keys in :data:`SAME_BASKET` are descriptive."""
    default_unit, change_unit = UNITS[kind]
    level_unit = level_unit or default_unit
    levels = levels.dropna()
    if levels.empty:
        return _absent(key, name, source, kind, f"no {source} data on or before {asof}")
    own = levels.index[-1].date()
    values = levels.to_numpy(dtype="float64")
    ch1 = _diff(values, lag_1m, kind) if lag_1m else None
    ch3 = _diff(values, lag_3m, kind)
    year = values[-per_year:]
    spread = float(year.std(ddof=1)) if year.size > 1 else 0.0
    z = ((float(year[-1]) - float(year.mean())) / spread
         if year.size >= (20 if per_year >= 52 else 12) and spread > 0 else None)
    rel_values = relative.to_numpy(dtype="float64")
    if per_year >= 52:
        xw, x = _weekly_changes(values, _week_ids(pd.DatetimeIndex(levels.index)), kind)
        yw, y = _weekly_changes(rel_values, _week_ids(pd.DatetimeIndex(relative.index)),
                                "ratio")
        xw, x = xw[-lookback_weeks:], x[-lookback_weeks:]
        _, ix, iy = np.intersect1d(xw, yw, assume_unique=True, return_indices=True)
        relation = relation_of(x[ix], y[iy])
    else:
        pos = np.searchsorted(relative.index.to_numpy(), levels.index.to_numpy(),
                              side="right") - 1
        sampled = np.where(pos >= 0, rel_values[np.clip(pos, 0, None)], np.nan)
        periods = max(MIN_PAIRS, lookback_weeks * per_year // 52)
        relation = relation_of(_diff(values, 1, kind)[-periods:],
                               _diff(sampled, 1, "ratio")[-periods:])
    last_1m = None if ch1 is None or ch1.size == 0 else float(ch1[-1])
    typical = None
    if ch1 is not None:
        recent = ch1[-3 * per_year:]
        typical = float(recent.std(ddof=1)) if recent.size > 2 else None
    last_3m = float(ch3[-1]) if ch3.size else None
    move = last_1m if ch1 is not None else last_3m
    call, reason = _call(kind, short, move, typical, relation,
                         descriptive=key in SAME_BASKET)
    if ch1 is None and move is not None and np.isfinite(move):
        reason = reason.replace("in a month", "since the previous quarter")
    stale = (pd.Timestamp(asof) - levels.index[-1]).days > MAX_AGE_DAYS.get(per_year, 7)
    if stale:
        reason = f"as of {own.isoformat()} (stale, not counted): {reason}"
    reason = reason[:1].upper() + reason[1:]

    def opt(value: float | None) -> float | None:
        return None if value is None or not np.isfinite(value) else float(value)

    return DriverReading(
        key=key, name=name, source=source, level_unit=level_unit, change_unit=change_unit,
        level=float(levels.iloc[-1]), asof=own, period=period, stale=stale,
        change_1m=opt(last_1m), change_3m=opt(last_3m), zscore=opt(z), relation=relation,
        call=call, reason=reason)


def _absent(key: str, name: str, source: str, kind: Kind, reason: str) -> DriverReading:
    level_unit, change_unit = UNITS[kind]
    return DriverReading(key=key, name=name, source=source, level_unit=level_unit,
                         change_unit=change_unit, level=None, asof=None, period=None,
                         stale=False, change_1m=None, change_3m=None, zscore=None,
                         relation=None, call="absent", reason=reason)


ECONOMY_KINDS: dict[str, tuple[Kind, str, str]] = {
    # key: (kind, short name in reasons, level unit)
    "unemployment": ("rate", "unemployment", "%"),
    "gdp_growth": ("rate", "GDP growth", "%"),
    "jobless_claims": ("price", "jobless claims", "thousands"),
    "consumer_sentiment": ("points", "consumer sentiment", "pts"),
    "fed_path": ("yield", "the 2y − fed funds spread", "%"),
}


def _fred_note(spec: EconomySpec, notes: Mapping[str, str] | None) -> str | None:
    """The first note (absence reason or stale label) given for one of the spec's series."""
    if not notes:
        return None
    return next((f"FRED {s}: {notes[s]}" for s in spec.sources if s in notes), None)


def _economy(spec: EconomySpec, fred: Mapping[str, pd.Series] | None, relative: pd.Series,
             asof: date, lookback_weeks: int,
             notes: Mapping[str, str] | None = None) -> DriverReading:
    kind, short, unit = ECONOMY_KINDS[spec.key]
    note = _fred_note(spec, notes)
    if fred is None:
        return _absent(spec.key, spec.name, "/".join(spec.sources), kind,
                       "no FRED data given (pass a FRED directory)")
    try:
        levels, source = to_available(spec, fred)
    except KeyError:
        why = note or f"FRED {' or '.join(spec.sources)} not in the FRED data given"
        return _absent(spec.key, spec.name, "/".join(spec.sources), kind, why)
    levels = levels.loc[: pd.Timestamp(asof)]
    if levels.empty:
        return _absent(spec.key, spec.name, f"FRED {source}", kind,
                       f"no FRED {source} observation published by {asof.isoformat()}")
    daily = spec.per_year == 252
    period = None if daily else period_of(spec, levels.index[-1]).date()
    lag_1m = {252: 21, 52: 4, 12: 1}.get(spec.per_year)
    lag_3m = {252: 63, 52: 13, 12: 3, 4: 1}[spec.per_year]
    reading = _reading(spec.key, spec.name, short, kind, f"FRED {source}", levels, relative,
                       asof, per_year=spec.per_year, lag_1m=lag_1m, lag_3m=lag_3m,
                       lookback_weeks=lookback_weeks, period=period, level_unit=unit)
    stale_of = next((s for s in spec.sources if notes and notes.get(s, "").startswith("stale")),
                    None)
    if stale_of is not None and notes is not None:
        label = notes[stale_of].removeprefix("stale: ")
        reading = replace(reading, reason=f"Stale FRED {stale_of}: {label}. {reading.reason}")
    return reading


def calc_drivers(bars: Mapping[str, pd.DataFrame], asof: date, *,
                 fred: Mapping[str, pd.Series] | None = None,
                 lookback_weeks: int = LOOKBACK_WEEKS,
                 fred_notes: Mapping[str, str] | None = None) -> DriversPanel:
    """Every driver reading as of ``asof`` and the composite; see the module docstring.

    ``bars``: bar frames by symbol (^RUT and ^GSPC required: KeyError otherwise). ``fred``:
    FRED series by id (``UNRATE``, ``GDPC1``/``GDP``, ``ICSA``, ``UMCSENT``, ``DGS2`` and
    ``FEDFUNDS``, optional ``BAMLH0A0HYM2``). ``fred_notes``: why a series is absent, or its
    stale label (shown in the reason; a stale label starts with "stale"). Only data dated on or
    before ``asof`` is read.
    """
    # Only the last ~9 years matter (3 years of 1M changes, 156 weeks, 26 quarters of GDP plus
    # its release lag); slicing once keeps the panel fast and changes no answer.
    start = pd.Timestamp(asof) - pd.DateOffset(days=max(lookback_weeks * 7, 3000) + 300)
    wanted = {"^RUT", "^GSPC", *(s for spec in MARKET_SPECS for s in spec.symbols)}
    bars = {s: bars[s].loc[start:] for s in wanted if s in bars}
    relative = to_relative(bars, asof)
    readings: list[DriverReading] = []
    for spec in MARKET_SPECS:
        use_spread = spec.key == "credit" and _use_spread(bars, fred, asof)
        kind: Kind = "yield" if use_spread else spec.kind
        missing = [s for s in spec.symbols if s not in bars or bars[s].empty]
        if missing and not use_spread:
            readings.append(_absent(spec.key, spec.name, "/".join(spec.symbols), kind,
                                    f"no data for {', '.join(missing)}"))
            continue
        levels, source = to_market_levels(bars, spec.key, asof, fred=fred)
        short = "HY credit spread" if use_spread else spec.short
        name = "Credit (HY spread, FRED)" if use_spread else spec.name
        readings.append(_reading(spec.key, name, short, kind, source, levels,
                                 relative, asof, per_year=252, lag_1m=21,
                                 lag_3m=63, lookback_weeks=lookback_weeks))
    for econ in ECONOMY_SPECS:
        readings.append(_economy(econ, fred, relative, asof, lookback_weeks, fred_notes))
    counted = [r for r in readings if not r.stale and r.call in ("tailwind", "headwind",
                                                                    "neutral")]
    tail = sum(r.call == "tailwind" for r in counted)
    head = sum(r.call == "headwind" for r in counted)
    neutral = sum(r.call == "neutral" for r in counted)
    absent = sum(r.call == "absent" for r in readings)
    not_counted = tuple(r.key for r in readings if r.stale)
    descriptive = tuple(r.key for r in readings if r.call == "descriptive")
    lean = ("more tailwinds" if tail > head else "more headwinds" if head > tail
            else "balanced")
    summary = (f"{tail} tailwind{'s' * (tail != 1)}, {head} headwind{'s' * (head != 1)}, "
               f"{neutral} neutral: {lean}")
    if not_counted:
        summary += f" ({len(not_counted)} stale not counted)"
    return DriversPanel(asof=asof, lookback_weeks=lookback_weeks, readings=tuple(readings),
                        tailwinds=tail, headwinds=head, neutral=neutral, absent=absent,
                        not_counted=not_counted, summary=summary, descriptive=descriptive)


def to_driver_series(bars: Mapping[str, pd.DataFrame], key: str, asof: date, *,
                     fred: Mapping[str, pd.Series] | None = None,
                     window: int = 252) -> pd.Series:
    """The driver's last ``window`` levels up to ``asof`` (for charts), in its level units.

    Market keys as in ``MARKET_SPECS``; economy keys give levels by availability date.
    KeyError when the data is missing.
    """
    econ = next((e for e in ECONOMY_SPECS if e.key == key), None)
    if econ is not None:
        if fred is None:
            raise KeyError(key)
        levels, _ = to_available(econ, fred)
        per = max(1, window * econ.per_year // 252)
        return levels.loc[: pd.Timestamp(asof)].iloc[-per:]
    levels, _ = to_market_levels(bars, key, asof, fred=fred)
    return levels.iloc[-window:]
