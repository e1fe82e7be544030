"""Alerts as of a session: which events fired at its close, each with what followed before.

:func:`build_timeline` runs every detector of :mod:`.events` once over the history up to
``end`` (each row reads only earlier closes); :meth:`AlertTimeline.batch` then slices one
session: its events, and for each one the statistics of :mod:`.history` over the *earlier*
events of the same group (windows complete by the session) and over every eligible day of the
same history (the base rate). :func:`calc_alerts` is one session; :func:`replay_alerts` a range.
Record, breakout and drought events need the Russell 2000's full history (``inception``): with
a shorter history they are not evaluated and each batch says so in ``notes``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from analytics.alerts.events import (
    to_cycle_turns,
    to_drought_milestones,
    to_level_crosses,
    to_ma_crosses,
)
from analytics.alerts.history import FollowStats, ForwardReturns
from analytics.alerts.params import EVENT_KINDS, AlertParams
from analytics.records import covers_inception, to_record_flags
from analytics.studies.breakouts import calc_breakout_study
from analytics.studies.cycles import to_ratio

NAMES = {"^RUT": "Russell 2000", "^GSPC": "S&P 500", "RUT/SPX": "RUT/SPX"}
STEP_KEYS = {"^RUT": "rut_step", "^GSPC": "spx_step"}


@dataclass(frozen=True)
class EventHistory:
    """The event's past: ``before`` earlier events of the same group (``first``, ``previous``:
    the oldest and latest of them), ``after``: what followed them (complete windows only),
    ``base``: the same statistics over every eligible day since ``base_from``."""

    label: str
    before: int
    first: date | None
    previous: date | None
    after: tuple[FollowStats, ...]
    base: tuple[FollowStats, ...]
    base_from: date | None


@dataclass(frozen=True)
class AlertEvent:
    """One event at ``session``'s close. ``key`` is unique within the session and stable
    (``kind:symbol:detail``); ``level`` is the level crossed (charts draw it); ``values`` holds
    the numbers the sentence quotes; ``history_complete`` is set on record-based events."""

    kind: str
    key: str
    session: date
    symbol: str
    sentence: str
    history: EventHistory
    level: float | None = None
    history_complete: bool | None = None
    values: dict[str, Any] = field(default_factory=dict, compare=True)


@dataclass(frozen=True)
class AlertBatch:
    """Every event of one session, in :data:`EVENT_KINDS` order; ``notes`` says what could not
    be evaluated that session (and why)."""

    session: date
    events: tuple[AlertEvent, ...]
    notes: tuple[str, ...] = ()
    horizons: tuple[int, ...] = (21, 63, 252)


@dataclass(frozen=True)
class _Occurrence:
    when: np.datetime64
    kind: str
    group: str
    domain: str
    key: str
    symbol: str
    sentence: str
    level: float | None
    complete: bool | None
    values: dict[str, Any]


def _ord(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lvl(x: float) -> str:
    return f"{x:,.0f}"


def _ts(d: date) -> np.datetime64:
    return np.datetime64(pd.Timestamp(d), "ns")


class AlertTimeline:
    """Every event up to ``end`` and what is needed to describe one as of any session."""

    def __init__(self, occurrences: list[_Occurrence], labels: dict[str, str],
                 domains: dict[str, np.ndarray], forward: ForwardReturns,
                 sessions: np.ndarray, notes: tuple[str, ...], spx_end: np.datetime64 | None,
                 params: AlertParams) -> None:
        order = {k: i for i, k in enumerate(EVENT_KINDS)}
        self.occurrences = sorted(occurrences, key=lambda o: (o.when, order[o.kind], o.key))
        self._labels, self._domains, self._forward = labels, domains, forward
        self.sessions, self._notes, self._spx_end, self.params = sessions, notes, spx_end, params
        groups: dict[str, list[np.datetime64]] = defaultdict(list)
        for o in self.occurrences:
            groups[o.group].append(o.when)
        self._groups = {g: np.array(v, dtype="datetime64[ns]") for g, v in groups.items()}
        self._when = np.array([o.when for o in self.occurrences], dtype="datetime64[ns]")

    def _history(self, o: _Occurrence, asof: date,
                 base_cache: dict[str, tuple[tuple[FollowStats, ...], date | None]]
                 ) -> EventHistory:
        dates = self._groups[o.group]
        past = dates[dates < o.when]
        if o.domain not in base_cache:
            days = self._domains[o.domain]
            days = days[days <= o.when]
            first = pd.Timestamp(days[0]).date() if days.size else None
            base_cache[o.domain] = (self._forward.stats(days, asof), first)
        base, first_day = base_cache[o.domain]
        return EventHistory(
            label=self._labels[o.group], before=int(past.size),
            first=pd.Timestamp(past[0]).date() if past.size else None,
            previous=pd.Timestamp(past[-1]).date() if past.size else None,
            after=self._forward.stats(past, asof), base=base, base_from=first_day)

    def batch(self, session: date) -> AlertBatch:
        """The events that fired at ``session``'s close (none: an empty batch)."""
        when = _ts(session)
        lo, hi = np.searchsorted(self._when, [when, when], side="left")
        hi = int(np.searchsorted(self._when, when, side="right"))
        cache: dict[str, tuple[tuple[FollowStats, ...], date | None]] = {}
        events = tuple(
            AlertEvent(kind=o.kind, key=o.key, session=session, symbol=o.symbol,
                       sentence=o.sentence, history=self._history(o, session, cache),
                       level=o.level, history_complete=o.complete, values=dict(o.values))
            for o in self.occurrences[int(lo):hi])
        notes = list(self._notes)
        if self._spx_end is None or when > self._spx_end:
            notes.append("no S&P 500 close for this session: its level crosses and the RUT/SPX "
                         "events were not evaluated")
        return AlertBatch(session=session, events=events, notes=tuple(notes),
                          horizons=self.params.horizons)

    def batches(self, start: date, end: date) -> list[AlertBatch]:
        """One batch per session in [start, end] that has at least one event, oldest first."""
        a, b = _ts(start), _ts(end)
        days = np.unique(self._when[(self._when >= a) & (self._when <= b)])
        return [self.batch(pd.Timestamp(d).date()) for d in days]


def _records(rut: pd.Series, params: AlertParams, spx: pd.Series, end: date,
             inception: date | None) -> tuple[list[_Occurrence], bool]:
    """Record closes, breakouts and drought milestones of ^RUT (only on a complete history)."""
    clean = rut.dropna()
    complete = len(clean) > 0 and covers_inception(clean.index[0].date(), inception)
    if not complete:
        return [], False
    out: list[_Occurrence] = []
    flags = to_record_flags(clean).to_numpy()
    pos = np.flatnonzero(flags)
    values, idx = clean.to_numpy(dtype="float64"), clean.index
    years = pd.DatetimeIndex(idx).year.to_numpy()
    for prev, p in zip(pos[:-1].tolist(), pos[1:].tolist(), strict=True):
        nth = int(np.count_nonzero(years[pos[pos <= p]] == years[p]))
        out.append(_Occurrence(
            _ts(idx[p]), "record", "record", "^RUT", "record:^RUT", "^RUT",
            f"The Russell 2000 closed at a record {values[p]:,.2f}, above the "
            f"{values[prev]:,.2f} of {idx[prev].date().isoformat()}: its {_ord(nth)} record "
            f"close of {idx[p].year}.", None, True,
            {"close": float(values[p]), "previous_record": float(values[prev]),
             "previous_record_date": idx[prev].date().isoformat(), "records_this_year": nth}))
    study = calc_breakout_study(clean, spx, end, gap_days=params.breakout_gap_days,
                                horizons=(1,), inception=inception)
    for e in study.events:
        out.append(_Occurrence(
            _ts(e.date), "breakout", "breakout", "^RUT", "breakout:^RUT", "^RUT",
            f"Breakout: the Russell 2000's first record close in {e.gap_days:,} days "
            f"({e.close:,.2f}; the previous record was {e.previous_record_close:,.2f} on "
            f"{e.previous_record_date.isoformat()}).", None, True,
            {"close": e.close, "gap_days": e.gap_days,
             "previous_record_date": e.previous_record_date.isoformat()}))
    for m in to_drought_milestones(clean, params.drought_years):
        label = f"{m.years} year{'s' if m.years != 1 else ''}"
        out.append(_Occurrence(
            _ts(m.date), "drought", f"drought:{m.years}", "^RUT", f"drought:^RUT:{m.years}y",
            "^RUT",
            f"The Russell 2000 has gone {label} without a record close: the last was "
            f"{m.record_close:,.2f} on {m.record_date.isoformat()} and it closed at "
            f"{m.close:,.2f} ({m.close / m.record_close - 1:+.1%}).", None, True,
            {"years": m.years, "record_date": m.record_date.isoformat(),
             "record_close": m.record_close, "close": m.close}))
    return out, True


def _levels(symbol: str, prices: pd.Series, params: AlertParams) -> list[_Occurrence]:
    step = float(getattr(params, STEP_KEYS[symbol]))
    by_day: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for c in to_level_crosses(prices, step, params.level_band):
        by_day[(c.date, c.direction)].append(c)
    out = []
    name = NAMES[symbol]
    for (day, direction), crosses in by_day.items():
        levels = sorted(c.level for c in crosses)
        far = levels[-1] if direction > 0 else levels[0]
        close = crosses[0].close
        shown = " and ".join(_lvl(x) for x in (levels if direction > 0 else levels[::-1]))
        if direction > 0:
            how = ("for the first time" if all(c.first_ever for c in crosses) else "again")
            text = f"The {name} closed above {shown} {how} ({close:,.2f})."
        else:
            text = f"The {name} closed below {shown} ({close:,.2f})."
        side = "up" if direction > 0 else "down"
        out.append(_Occurrence(
            _ts(day), "level_cross", f"level_cross:{symbol}:{side}", symbol,
            f"level_cross:{symbol}:{side}:{_lvl(far).replace(',', '')}", symbol, text, far, None,
            {"direction": side, "levels": levels, "close": close, "step": step}))
    return out


def _ratio_events(ratio: pd.Series, rut: pd.Series, spx: pd.Series, end: date,
                  params: AlertParams) -> list[_Occurrence]:
    out = []
    for w in params.ma_windows:
        for c in to_ma_crosses(ratio, w, params.ma_confirm):
            side = "above" if c.direction > 0 else "below"
            who = "small caps gaining" if c.direction > 0 else "large caps gaining"
            out.append(_Occurrence(
                _ts(c.date), "ma_cross", f"ma_cross:{w}:{side}", f"ma{w}", f"ma_cross:RUT/SPX:{w}",
                "RUT/SPX",
                f"RUT/SPX closed {side} its {w}-day average for the {_ord(params.ma_confirm)} "
                f"session in a row since {c.run_start.isoformat()} ({who}; ratio "
                f"{c.value:.4f} vs average {c.average:.4f}).", None, None,
                {"window": w, "direction": side, "ratio": c.value, "average": c.average,
                 "run_start": c.run_start.isoformat()}))
    for t in to_cycle_turns(rut, spx, end, params.cycle_swing):
        move = t.ratio / t.turn_ratio - 1
        where = "low" if t.leader == "small" else "peak"
        who = "small caps" if t.leader == "small" else "large caps"
        out.append(_Occurrence(
            _ts(t.date), "cycle_turn", f"cycle_turn:{t.leader}", "ratio",
            f"cycle_turn:RUT/SPX:{t.leader}", "RUT/SPX",
            f"Leadership turn: RUT/SPX is {move:+.1%} from its {t.turn_date.isoformat()} {where}, "
            f"a {params.cycle_swing:.0%} swing: {who} lead from there (the regime before began "
            f"{t.prior_start.isoformat()}).", None, None,
            {"leader": t.leader, "turn_date": t.turn_date.isoformat(), "move": move,
             "prior_start": t.prior_start.isoformat()}))
    return out


LABELS = {
    "record": "Russell 2000 record closes",
    "breakout": "breakouts (first record in over a year)",
    "level_cross:^RUT:up": "Russell 2000 closes above a round level",
    "level_cross:^RUT:down": "Russell 2000 closes below a round level",
    "level_cross:^GSPC:up": "S&P 500 closes above a round level",
    "level_cross:^GSPC:down": "S&P 500 closes below a round level",
    "cycle_turn:small": "turns to small-cap leadership",
    "cycle_turn:large": "turns to large-cap leadership",
}


def _label(group: str) -> str:
    if group in LABELS:
        return LABELS[group]
    kind, *rest = group.split(":")
    if kind == "ma_cross":
        return f"confirmed RUT/SPX crosses {rest[1]} its {rest[0]}-day average"
    years = int(rest[0])
    return f"{years}-year record droughts"


def build_timeline(rut: pd.Series, spx: pd.Series, end: date, params: AlertParams | None = None,
                   *, inception: date | None = None) -> AlertTimeline:
    """Every event of ^RUT (``rut``), ^GSPC (``spx``) and RUT/SPX up to ``end``.

    ``inception``: the Russell 2000's first session (None = unknown: no record-based events).
    Price series (NaNs ignored); nothing after ``end`` is read.
    """
    params = params or AlertParams()
    cut = pd.Timestamp(end)
    rut = rut.loc[:cut].dropna().astype("float64")
    spx = spx.loc[:cut].dropna().astype("float64")
    occurrences, complete = _records(rut, params, spx, end, inception)
    notes: tuple[str, ...] = ()
    if not complete:
        start = rut.index[0].date().isoformat() if len(rut) else "nowhere"
        notes = (f"record, breakout and drought alerts are off: the Russell 2000 history "
                 f"starts {start}, after the index's inception, so no close can be called a "
                 f"record",)
    occurrences += _levels("^RUT", rut, params) + _levels("^GSPC", spx, params)
    ratio = to_ratio(rut, spx, end)
    occurrences += _ratio_events(ratio, rut, spx, end, params)
    ratio_days = ratio.index.to_numpy(dtype="datetime64[ns]")
    domains = {"^RUT": rut.index.to_numpy(dtype="datetime64[ns]"),
               "^GSPC": spx.index.to_numpy(dtype="datetime64[ns]"), "ratio": ratio_days}
    for w in params.ma_windows:
        domains[f"ma{w}"] = ratio_days[w - 1:]
    labels = {o.group: _label(o.group) for o in occurrences}
    forward = ForwardReturns({"^GSPC": spx, "^RUT": rut}, params.horizons)
    sessions = np.union1d(domains["^RUT"], domains["^GSPC"])
    spx_end = domains["^GSPC"][-1] if len(spx) else None
    return AlertTimeline(occurrences, labels, domains, forward, sessions, notes, spx_end, params)


def calc_alerts(rut: pd.Series, spx: pd.Series, asof: date, params: AlertParams | None = None,
                *, inception: date | None = None) -> AlertBatch:
    """The events that fired at ``asof``'s close (see :func:`build_timeline`)."""
    return build_timeline(rut, spx, asof, params, inception=inception).batch(asof)


def replay_alerts(rut: pd.Series, spx: pd.Series, start: date, end: date,
                  params: AlertParams | None = None, *, inception: date | None = None
                  ) -> list[AlertBatch]:
    """Every session in [start, end] with at least one event; history built once."""
    if start > end:
        raise ValueError("start must be on or before end")
    return build_timeline(rut, spx, end, params, inception=inception).batches(start, end)
