"""When each index's own history begins: the date a record close must be measured from.

A close is an all-time *record* only when the history read reaches back to the index's
inception; otherwise it is only the highest close since the first date held. Analytics is
given these dates as data (``inception=`` / ``inceptions=``); nothing here is fetched.

- ``^RUT``: 1979-01-02, the first session after the Russell 2000's base date (1978-12-29, a
  defined level of 100 rather than a traded close). The bundled history starts there.
- ``^GSPC``: 1927-12-30, the first close of Yahoo's ^GSPC series (the S&P 500 proper dates from
  1957-03-04; Yahoo and every source we use carry its predecessor back to 1927, and capbrief's
  S&P 500 records have always been measured over that series).
Symbols not listed have no known inception: their highs are never called records.
"""

from __future__ import annotations

from datetime import date

INCEPTIONS: dict[str, date] = {
    "^RUT": date(1979, 1, 2),
    "^GSPC": date(1927, 12, 30),
}


def inception_of(symbol: str) -> date | None:
    """The index's first session, or None when capbrief does not know it."""
    return INCEPTIONS.get(symbol)
