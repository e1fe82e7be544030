"""The Russell 2000 closes before Yahoo's first ^RUT day, shipped inside the package.

Yahoo serves ^RUT from 1987-09-10. The index itself starts on 1979-01-02 (first session after
its 1978-12-29 base date), so the closes 1979-01-02 .. 1987-09-09 ship as package data
(``bot/market_data/data/rut_1979_1987.csv.gz``, ``date,close``; provenance in the
``PROVENANCE.md`` beside it). They never change, so every mode (Yahoo, CSV replay, an installed
wheel, Docker) splices the same rows under ^RUT, read with :mod:`importlib.resources`, never
relative to the working directory.

Regenerate reproducibly (byte-identical output for the same input)::

    python -m bot.market_data.backfill --rebuild ../shared/data/market/RUT_since1979.csv

:func:`check_backfill` compares the bundled closes with FRED's RU2000PR (base 100 on
1978-12-29), which is the bundle's source: ``RU2000PR / RU2000PR_PER_RUT`` should equal the
bundled close on every shared date.
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from bot.market_data.frames import normalize_bars

log = logging.getLogger(__name__)

SYMBOL = "^RUT"
#: The first ^RUT session Yahoo serves; the bundle holds every close before it.
YAHOO_FIRST_DAY = date(1987, 9, 10)
#: The bundle's first close: the Russell 2000's first session after its base date.
FIRST_DAY = date(1979, 1, 2)
#: RU2000PR / ^RUT on 1987-09-10, the factor the bundle was scaled by (no jump at the splice).
RU2000PR_PER_RUT = 2.480204
RESOURCE = "rut_1979_1987.csv.gz"
DEFAULT_TOLERANCE = 1e-5  # relative; the bundle holds 6 decimals


def resource_path() -> resources.abc.Traversable:
    """The bundled file inside the installed package."""
    return resources.files("bot.market_data").joinpath("data").joinpath(RESOURCE)


@cache
def load_bundled_history() -> pd.DataFrame:
    """The bundled ^RUT closes as a bar frame (close = adj_close, other columns NaN); read once
    per process. The frame is shared: never mutate it."""
    with resource_path().open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
        frame = pd.read_csv(text, index_col="date", parse_dates=["date"])
    frame["adj_close"] = frame["close"]
    return normalize_bars(frame)


def bundled_histories() -> dict[str, pd.DataFrame]:
    """Every bundled history by symbol (today only ^RUT)."""
    return {SYMBOL: load_bundled_history()}


def to_bundle_bytes(source: pd.DataFrame) -> bytes:
    """The gzip file for ``source`` (a bar frame, e.g. ``RUT_since1979.csv``): its closes dated
    before :data:`YAHOO_FIRST_DAY`, 6 decimals, gzip header without name or time (so the same
    input always gives the same bytes). ValueError when no such close exists."""
    closes = source["close"].dropna()
    closes = closes.loc[closes.index < pd.Timestamp(YAHOO_FIRST_DAY)]
    if closes.empty:
        raise ValueError(f"no closes before {YAHOO_FIRST_DAY} in the source")
    body = io.StringIO()
    body.write("date,close\n")
    for day, value in zip(pd.DatetimeIndex(closes.index), closes.to_numpy(), strict=True):
        body.write(f"{day.date().isoformat()},{value:.6f}\n")
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(body.getvalue().encode("ascii"))
    return out.getvalue()


@dataclass(frozen=True)
class BackfillDifference:
    """One disagreement between the bundle and a reference: ``kind`` is ``"missing"`` (the
    reference has a close the bundle lacks), ``"extra"`` (the reverse) or ``"value"``
    (``relative = bundled / expected - 1`` beyond the tolerance)."""

    day: date
    kind: str
    bundled: float | None
    expected: float | None
    relative: float | None


def check_backfill(bundled: pd.Series, reference: pd.Series, *,
                   scale: float = RU2000PR_PER_RUT,
                   tolerance: float = DEFAULT_TOLERANCE) -> list[BackfillDifference]:
    """Differences between ``bundled`` closes and ``reference / scale`` (FRED RU2000PR by
    default), over the bundle's date range only (reference dates outside it are ignored; the
    reference's base-date value 1978-12-29 is before it). NaNs are dropped from both. Pure: no
    I/O. Empty list = they agree.
    """
    ours = bundled.dropna().astype("float64")
    theirs = reference.dropna().astype("float64") / scale
    if len(ours):
        theirs = theirs.loc[ours.index[0]: ours.index[-1]]
    both = pd.concat({"mine": ours, "want": theirs}, axis=1).sort_index()
    out: list[BackfillDifference] = []
    for day, mine, want in zip(pd.DatetimeIndex(both.index), both["mine"].to_numpy(),
                               both["want"].to_numpy(), strict=True):
        when = day.date()
        if math.isnan(want):
            out.append(BackfillDifference(when, "extra", float(mine), None, None))
        elif math.isnan(mine):
            out.append(BackfillDifference(when, "missing", None, float(want), None))
        else:
            rel = float(mine) / float(want) - 1.0 if want else math.inf
            if not abs(rel) <= tolerance:
                out.append(BackfillDifference(when, "value", float(mine), float(want), rel))
    return out


def log_backfill_check(reference: pd.Series | None) -> list[BackfillDifference]:
    """Check the bundle against ``reference`` (live FRED RU2000PR when the caller could fetch
    it) and log the outcome: one warning per kind of difference, with the first few dates.
    ``None`` (FRED not reachable) logs that the check was skipped and returns []."""
    if reference is None or reference.dropna().empty:
        log.info("bundled ^RUT history not checked: no RU2000PR reference available")
        return []
    diffs = check_backfill(load_bundled_history()["close"], reference)
    if not diffs:
        log.info("bundled ^RUT history matches RU2000PR (%s .. %s)", FIRST_DAY,
                 YAHOO_FIRST_DAY)
        return diffs
    for kind in ("missing", "extra", "value"):
        some = [d for d in diffs if d.kind == kind]
        if some:
            log.warning("bundled ^RUT history vs RU2000PR: %d %s date(s), first %s",
                        len(some), kind, ", ".join(d.day.isoformat() for d in some[:5]))
    return diffs


def main(argv: Sequence[str] | None = None) -> int:
    """``--rebuild SOURCE [--out FILE]``: write the bundle from a ``RUT_since1979.csv``."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.market_data.backfill",
        description="Rebuild the bundled ^RUT closes before 1987-09-10.")
    parser.add_argument("--rebuild", type=Path, required=True, metavar="RUT_since1979.csv",
                        help="the source bar CSV (close before 1987-09-10: FRED RU2000PR)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: the package's own data file)")
    args = parser.parse_args(argv)
    from bot.market_data.csvdir import read_bar_csv

    if not args.rebuild.is_file():
        print(f"error: {args.rebuild} not found", file=sys.stderr)
        return 2
    payload = to_bundle_bytes(read_bar_csv(args.rebuild))
    out = args.out or Path(__file__).with_name("data") / RESOURCE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(payload)
    tmp.replace(out)  # nothing half-written
    print(f"wrote {out} ({len(payload):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
