"""The one normalised bar frame every provider returns, and helpers on it.

A *bar frame* has exactly the columns :data:`BAR_COLUMNS` (float64, NaN where the source gave
nothing), a tz-naive ``DatetimeIndex`` named ``date`` holding exchange session dates at midnight,
sorted ascending with no duplicate dates, and no row whose prices are all missing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported by the functions that need it: symbol checks need none
    import pandas as pd

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close")
_ALIASES = {"adj close": "adj_close", "adjclose": "adj_close", "adj_close": "adj_close"}
SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,14}$")


def empty_bars() -> pd.DataFrame:
    """A bar frame with no rows."""
    import pandas as pd

    index = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in BAR_COLUMNS}, index=index)


def normalize_bars(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as a bar frame (see module doc). Duplicated dates keep the last row.

    Tz-aware indexes are converted to their *local* date (never to UTC first, which would shift
    daily bars by a day). Columns other than :data:`BAR_COLUMNS` are dropped.
    """
    import numpy as np
    import pandas as pd

    if frame.empty:
        return empty_bars()
    df = frame.copy()
    df.columns = [_ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in df.columns]
    idx = pd.DatetimeIndex(pd.to_datetime(df.index))
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    df.index = idx.normalize().as_unit("ns").rename("date")
    out = pd.DataFrame(index=df.index)
    for col in BAR_COLUMNS:
        if col in df:
            out[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        else:
            out[col] = np.nan
    out = out.replace([np.inf, -np.inf], np.nan)
    out = out.dropna(how="all", subset=list(PRICE_COLUMNS))
    out = out[~out.index.duplicated(keep="last")].sort_index()
    return out


def file_stem(symbol: str) -> str:
    """The CSV file stem for ``symbol``: ``^RUT`` → ``RUT``."""
    return symbol.lstrip("^")


def is_valid_symbol(symbol: str) -> bool:
    """Ticker syntax: an optional ``^``, then 1–15 of ``A-Z 0-9 . - =``, starting alphanumeric."""
    return bool(SYMBOL_RE.fullmatch(symbol))


def extend_history(bars: pd.DataFrame, older: pd.DataFrame) -> pd.DataFrame:
    """Prepend ``older``'s rows dated before ``bars`` begins, scaled to meet it without a jump.

    The scale is ``bars.close / older.close`` on the first date both have (1.0 when they share
    no date, or either close there is missing). Rows of ``bars`` always win on shared dates.
    """
    import numpy as np
    import pandas as pd

    if older.empty:
        return bars
    if bars.empty:
        return older
    first = bars.index[0]
    scale = 1.0
    if first in older.index:
        mine = float(bars["close"].iloc[0])
        theirs = float(older["close"].loc[first])
        if np.isfinite(mine) and np.isfinite(theirs) and theirs != 0.0:
            scale = mine / theirs
    head = older.loc[older.index < first].copy()
    head[list(PRICE_COLUMNS)] = head[list(PRICE_COLUMNS)] * scale
    return pd.concat([head, bars]) if not head.empty else bars
