"""Days like today: the k past sessions most similar to ``asof``, and what followed them.

Rule (stated once; ``docs/studies.md`` has the long form):
- *Features*: :mod:`analytics.studies.analog_features` (trend regime, ratio vs its 50/200-day
  averages, leadership streak, Russell 2000 below its record, 1M/3M relative return, optional
  drivers). Each past session is described only with data up to that session.
- *Scale*: each scaled feature is divided by its robust scale (1.4826 × MAD) over every session
  up to ``asof``; binary regime flags are not scaled.
- *Distance*: weighted Euclidean, ``d² = (W / W') Σ w_j ((x_cj - x_qj) / s_j)²`` over the
  features present on both the query and the candidate, where ``W`` sums the weights of the
  features present on the query and ``W'`` those present on both (a missing driver reading
  neither helps nor hurts). Features absent on the query are dropped; the drawdown is dropped
  when the history does not reach the Russell 2000's inception.
- *Pool*: sessions with every core feature, at least ``exclude_recent`` sessions before
  ``asof`` (today's own recent past is not an analog) and a complete forward window of
  ``max(horizons)`` sessions ending on or before ``asof``.
- *Declustering*: candidates in order of distance; one is kept only if it is at least
  ``min_separation`` sessions from every analog already kept (the closest of a cluster wins).
- *Outcomes*: the RUT/SPX relative return and both indices' PRICE returns over each horizon
  (``p[t+h] / p[t] - 1``, sessions of the common calendar). Hit = return > 0.
- *Baseline*: the same statistics over every session of the pool.
- *Test*: ``draws`` random sets of k pool sessions obeying the same separation rule (uniform
  over such sets, seeded, so deterministic).
  p = (1 + #{|mean_random - mean_pool| ≥ |mean_analogs - mean_pool|}) /
  (1 + draws). p ≥ 0.05 → "indistinguishable from a random day". The random sets carry the
  same overlap of forward windows as the analogs, so autocorrelation is allowed for.
Only data dated on or before ``asof`` is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analytics.leadership import InsufficientData
from analytics.records import covers_inception
from analytics.studies.analog_features import (
    CORE_FEATURES,
    DRIVER_FEATURES,
    DRIVER_MAX_AGE_DAYS,
    FeatureSpec,
    calc_robust_scale,
    to_aligned,
    to_analog_features,
)

DEFAULT_HORIZONS: tuple[int, ...] = (21, 63, 252)
SERIES: tuple[str, ...] = ("relative", "^RUT", "^GSPC")
ALPHA = 0.05
_Date = date


@dataclass(frozen=True)
class FeatureReading:
    """A feature of the query date: raw ``value`` (None = absent), its ``scale`` and ``weight``;
    ``used`` is False when it is left out of the distance (``reason`` says why)."""

    key: str
    label: str
    value: float | None
    scale: float
    weight: float
    used: bool
    reason: str = ""


@dataclass(frozen=True)
class Analog:
    """One past session. Return tuples are aligned with ``AnalogStudy.horizons``."""

    date: _Date
    distance: float
    regime_above: bool
    regime_rising: bool
    streak_sessions: int
    drawdown: float
    rel_1m: float
    rel_3m: float
    relative: tuple[float, ...]
    rut: tuple[float, ...]
    spx: tuple[float, ...]

    @property
    def regime(self) -> str:
        return regime_of(self.regime_above, self.regime_rising)


@dataclass(frozen=True)
class OutcomeStats:
    """``count`` returns at one horizon: hits (> 0), hit rate, mean, median (NaN when empty)."""

    count: int
    hits: int
    hit_rate: float
    mean: float
    median: float


@dataclass(frozen=True)
class Comparison:
    """Analogs vs baseline for one series ("relative", "^RUT", "^GSPC") and horizon.

    ``band_low``/``band_high``: the 2.5% / 97.5% quantiles of the mean of a random k-set;
    ``p_value``: the two-sided random-set test of the module docstring (NaN when the pool
    cannot hold a random set: then nothing can be told apart from a random day)."""

    series: str
    horizon: int
    analogs: OutcomeStats
    baseline: OutcomeStats
    band_low: float
    band_high: float
    p_value: float

    @property
    def indistinguishable(self) -> bool:
        return not self.p_value < ALPHA


@dataclass(frozen=True)
class AnalogStudy:
    """The k analogs of ``asof``, their outcomes and the baseline (module docstring).

    ``streak_sessions``: today's signed leadership streak (+ small caps ahead of the 50-day
    average). ``pool_*``: the sessions analogs and the baseline were drawn from; ``draws``:
    random sets behind each p-value."""

    asof: date
    k: int
    horizons: tuple[int, ...]
    streak_sessions: int
    min_separation: int
    exclude_recent: int
    features: tuple[FeatureReading, ...]
    analogs: tuple[Analog, ...]
    comparisons: tuple[Comparison, ...]
    pool_size: int
    pool_start: date
    pool_end: date
    draws: int
    data_start: date
    inception: date | None
    history_complete: bool

    def feature(self, key: str) -> FeatureReading | None:
        return next((f for f in self.features if f.key == key), None)

    @property
    def regime(self) -> str:
        """Today's trend regime key (:data:`analytics.leadership.REGIME_LABELS`)."""
        above, rising = self.feature("above_200d"), self.feature("rising_200d")
        assert above is not None and rising is not None
        return regime_of(bool(above.value), bool(rising.value))

    def comparison(self, series: str, horizon: int) -> Comparison:
        return next(c for c in self.comparisons if c.series == series and c.horizon == horizon)


def regime_of(above: bool, rising: bool) -> str:
    """The :data:`analytics.leadership.REGIME_LABELS` key of a (above 200d, 200d rising) pair."""
    if above:
        return "small_caps_leading" if rising else "small_caps_rebounding"
    return "small_caps_fading" if rising else "large_caps_leading"


def _stats(values: np.ndarray) -> OutcomeStats:
    n = int(values.size)
    if n == 0:
        nan = float("nan")
        return OutcomeStats(0, 0, nan, nan, nan)
    hits = int((values > 0).sum())
    return OutcomeStats(n, hits, hits / n, float(values.mean()), float(np.median(values)))


def pick_separated(order: np.ndarray, positions: np.ndarray, k: int,
                   min_separation: int) -> list[int]:
    """Walk ``order`` (indices into ``positions``, best first) and keep an index when its
    position is at least ``min_separation`` from every position kept; stop at ``k``."""
    kept: list[int] = []
    taken: list[int] = []
    for i in order.tolist():
        p = int(positions[i])
        if all(abs(p - q) >= min_separation for q in taken):
            kept.append(i)
            taken.append(p)
            if len(kept) == k:
                break
    return kept


def random_separated_sets(positions: np.ndarray, k: int, min_separation: int, draws: int,
                          seed: int) -> np.ndarray:
    """``draws`` x ``k`` sorted indices into ``positions`` (ascending session positions), each
    row a random set whose indices are pairwise at least ``min_separation`` apart, so its
    positions are too. Uniform over such sets ("stars and bars": k distinct slots among
    ``n - (k - 1)(min_separation - 1)``, slot i shifted by ``i (min_separation - 1)``); seeded.
    No rows when the pool cannot hold k such sessions."""
    gap = max(min_separation - 1, 0)
    slots = len(positions) - (k - 1) * gap
    if k < 1 or slots < k:
        return np.zeros((0, max(k, 0)), dtype=np.int64)
    rng = np.random.default_rng(seed)
    rows = np.sort(np.stack([rng.choice(slots, size=k, replace=False) for _ in range(draws)]),
                   axis=1)
    return rows + np.arange(k) * gap


def _forward(values: np.ndarray, pos: np.ndarray, horizons: tuple[int, ...]) -> np.ndarray:
    """returns[row, horizon] = values[pos + h] / values[pos] - 1 (caller ensures in range)."""
    steps = pos[:, None] + np.asarray(horizons)[None, :]
    return values[steps] / values[pos][:, None] - 1.0


def calc_analogs(rut: pd.Series, spx: pd.Series, asof: date, *, k: int = 10,
                 horizons: tuple[int, ...] = DEFAULT_HORIZONS, min_separation: int = 21,
                 exclude_recent: int = 252, drivers: Mapping[str, pd.Series] | None = None,
                 inception: date | None = None, draws: int = 5000,
                 seed: int = 14) -> AnalogStudy:
    """The :class:`AnalogStudy` of ``asof`` (module docstring has every rule).

    ``rut``/``spx`` are price series, ``drivers`` optional series by symbol (``^TNX``, ``^VIX``),
    ``inception`` the Russell 2000's first session (None = unknown: drawdown not used).
    ValueError for bad parameters; :class:`InsufficientData` when ``asof`` has no features or
    the pool holds fewer than ``k`` sessions.
    """
    horizons = tuple(sorted({int(h) for h in horizons}))
    if not 1 <= k <= 50:
        raise ValueError("k must be between 1 and 50")
    if not horizons or horizons[0] < 1:
        raise ValueError("horizons must be positive session counts")
    if min_separation < 1 or exclude_recent < 0 or draws < 1:
        raise ValueError("min_separation, exclude_recent and draws must be positive")
    cut = pd.Timestamp(asof)
    rut, spx = rut.loc[:cut], spx.loc[:cut]
    driver_data = {s: v.loc[:cut] for s, v in (drivers or {}).items()}
    frame = to_analog_features(rut, spx, driver_data)
    if frame.empty:
        raise InsufficientData(f"no session with both ^RUT and ^GSPC on or before {asof}")
    data_start = rut.dropna().index[0].date()
    complete = covers_inception(data_start, inception)
    q = len(frame) - 1
    query = frame.iloc[q]
    specs = [*CORE_FEATURES, *(s for s in DRIVER_FEATURES if s.key in frame.columns)]
    core = [s.key for s in CORE_FEATURES]
    if query[core].isna().any():
        raise InsufficientData(f"too little history before {frame.index[q].date()} to "
                               "describe it (needs 221 sessions of RUT/SPX)")

    readings, used = _readings(specs, frame, query, complete)
    used_core = [s.key for s in used if s.core]
    longest = horizons[-1]
    pos = np.arange(len(frame))
    eligible = frame[used_core].notna().all(axis=1).to_numpy().copy()
    eligible &= (pos + longest <= q) & (pos <= q - exclude_recent)
    pool = np.flatnonzero(eligible)
    if len(pool) < k:
        raise InsufficientData(f"only {len(pool)} past sessions before {frame.index[q].date()} "
                               f"have features and a full {longest}-session future; "
                               f"{k} analogs need more history")

    scales = {r.key: r.scale for r in readings}
    distance = calc_distances(frame.iloc[pool], query, used, scales)
    order = np.lexsort((pool, distance))
    chosen = pick_separated(order, pool, k, min_separation)
    picks = pool[chosen]

    series = {"relative": frame["ratio"].to_numpy(), "^RUT": frame["rut"].to_numpy(),
              "^GSPC": frame["spx"].to_numpy()}
    forward = {name: _forward(v, pool, horizons) for name, v in series.items()}
    sets = random_separated_sets(pool, len(chosen), min_separation, draws, seed)
    comparisons = []
    for name in SERIES:
        for j, h in enumerate(horizons):
            all_days = forward[name][:, j]
            mine = all_days[chosen]
            base = _stats(all_days)
            means = all_days[sets].mean(axis=1)
            gap = abs(float(mine.mean()) - base.mean)
            extreme = int((np.abs(means - base.mean) >= gap - 1e-15).sum())
            nan = float("nan")
            comparisons.append(Comparison(
                series=name, horizon=h, analogs=_stats(mine), baseline=base,
                band_low=float(np.quantile(means, 0.025)) if len(means) else nan,
                band_high=float(np.quantile(means, 0.975)) if len(means) else nan,
                p_value=(1 + extreme) / (1 + len(means)) if len(means) else nan))

    analogs = []
    for i, p in zip(chosen, picks, strict=True):
        row = frame.iloc[p]
        analogs.append(Analog(
            date=frame.index[p].date(), distance=float(distance[i]),
            regime_above=bool(row["above_200d"]), regime_rising=bool(row["rising_200d"]),
            streak_sessions=int(row["streak_sessions"]), drawdown=float(row["drawdown"]),
            rel_1m=float(row["rel_1m"]), rel_3m=float(row["rel_3m"]),
            relative=tuple(float(x) for x in forward["relative"][i]),
            rut=tuple(float(x) for x in forward["^RUT"][i]),
            spx=tuple(float(x) for x in forward["^GSPC"][i])))
    return AnalogStudy(
        asof=frame.index[q].date(), k=k, horizons=horizons,
        streak_sessions=int(query["streak_sessions"]), min_separation=min_separation,
        exclude_recent=exclude_recent, features=tuple(readings), analogs=tuple(analogs),
        comparisons=tuple(comparisons), pool_size=len(pool),
        pool_start=frame.index[pool[0]].date(), pool_end=frame.index[pool[-1]].date(),
        draws=len(sets), data_start=data_start, inception=inception,
        history_complete=complete)


def _readings(specs: list[FeatureSpec], frame: pd.DataFrame, query: pd.Series,
              complete: bool) -> tuple[list[FeatureReading], list[FeatureSpec]]:
    """Each feature's reading on the query date and the features the distance uses."""
    readings, used = [], []
    for spec in specs:
        raw = query[spec.key]
        value = None if pd.isna(raw) else float(raw)
        scale = calc_robust_scale(frame[spec.key]) if spec.scaled else 1.0
        reason = ""
        if value is None:
            reason = (f"no reading in the {DRIVER_MAX_AGE_DAYS} days up to this date"
                      if not spec.core else "no value on this date")
        elif spec.key == "drawdown" and not complete:
            reason = ("the Russell 2000 history does not reach its inception, so the record "
                      "is unknown")
        readings.append(FeatureReading(spec.key, spec.label, value, scale, spec.weight,
                                       not reason, reason))
        if not reason:
            used.append(spec)
    return readings, used


def calc_distances(rows: pd.DataFrame, query: pd.Series, used: list[FeatureSpec],
               scales: Mapping[str, float]) -> np.ndarray:
    """Weighted Euclidean distance of each row to ``query``, renormalised over the features
    present on both (module docstring)."""
    total = sum(s.weight for s in used)
    acc = np.zeros(len(rows))
    present = np.zeros(len(rows))
    for spec in used:
        x = rows[spec.key].to_numpy(dtype="float64")
        ok = ~np.isnan(x)
        z = np.where(ok, (x - float(query[spec.key])) / scales[spec.key], 0.0)
        acc += spec.weight * z * z
        present += np.where(ok, spec.weight, 0.0)
    return np.sqrt(acc * total / present)


@dataclass(frozen=True)
class AnalogPaths:
    """RUT/SPX around each analog and today, for the chart (relative return vs the day's own
    close, so every path is 0 at x = 0).

    ``paths[i]``: sessions ``-before … +horizon`` around analog i (``dates[i]``); ``today``:
    sessions ``-before … 0`` before ``asof``. ``band_low``/``band_mid``/``band_high``
    (sessions 0 … horizon): the 5%, 50% and 95% quantiles, across ``draws`` random k-sets of
    the pool (same separation rule and seed as the test), of each set's median path — where
    the analogs' median would fall if they were random days."""

    asof: date
    before: int
    horizon: int
    dates: tuple[date, ...]
    paths: tuple[np.ndarray, ...]
    today: np.ndarray
    band_low: np.ndarray
    band_mid: np.ndarray
    band_high: np.ndarray


def calc_analog_paths(rut: pd.Series, spx: pd.Series, study: AnalogStudy, *, before: int = 63,
                      draws: int = 400, seed: int = 14) -> AnalogPaths:
    """The :class:`AnalogPaths` of ``study`` (same ``rut``/``spx`` it was computed from); the
    horizon is the study's longest. Reads nothing after ``study.asof``."""
    cut = pd.Timestamp(study.asof)
    ratio = to_aligned(rut.loc[:cut], spx.loc[:cut])["ratio"]
    values = ratio.to_numpy()
    index = ratio.index
    horizon = study.horizons[-1]
    q = len(values) - 1
    picks = index.searchsorted([pd.Timestamp(a.date) for a in study.analogs])
    paths = tuple(values[max(p - before, 0): p + horizon + 1] / values[p] - 1.0
                  for p in picks.tolist())
    lo, hi = index.searchsorted([pd.Timestamp(study.pool_start), pd.Timestamp(study.pool_end)])
    pool = np.arange(int(lo), int(hi) + 1)
    sets = random_separated_sets(pool, max(len(picks), 1), study.min_separation, draws, seed)
    steps = np.arange(horizon + 1)
    if len(sets):
        starts = pool[sets]  # draws x k
        medians = np.median(values[starts[..., None] + steps] / values[starts][..., None] - 1.0,
                            axis=1)
        band = np.quantile(medians, [0.05, 0.5, 0.95], axis=0)
    else:
        band = np.full((3, horizon + 1), np.nan)
    today = values[max(q - before, 0): q + 1] / values[q] - 1.0
    return AnalogPaths(asof=study.asof, before=before, horizon=horizon,
                       dates=tuple(a.date for a in study.analogs), paths=paths, today=today,
                       band_low=band[0], band_mid=band[1], band_high=band[2])
