"""Check slash-command input before anything is fetched or rendered.

Each function returns a clean value or raises :class:`~bot.errors.BadInput` with a short message
safe to show (user text is shown only after being cut to 20 characters and stripped of Markdown
and mentions). Discord enforces choices and ranges in its client, but a crafted request does
not have to, so the bot checks again here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import partial

from bot.asof import parse_asof as _parse_asof
from bot.errors import BadInput
from bot.market_data.frames import is_valid_symbol
from bot.ui.format import shown

MAX_SYMBOLS = 4
MAX_SYMBOLS_TEXT = 100

#: A slash command's ``asof``: :func:`bot.asof.parse_asof` naming the option as Discord shows
#: it; pass ``today`` so a future date is refused before any fetch.
parse_asof = partial(_parse_asof, option="`asof`")
_SEPARATORS = re.compile(r"[\s,]+")


def parse_symbols(text: str | None) -> list[str]:
    """``"iwm, SPY"`` → ``["IWM", "SPY"]``: 1–4 distinct valid tickers, upper-cased, in order."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("Give 1 to 4 ticker symbols separated by spaces, e.g. `IWM SPY`.")
    if len(text) > MAX_SYMBOLS_TEXT:
        raise BadInput(f"That is too long for a list of tickers ({len(text)} characters); "
                       "give 1 to 4 symbols, e.g. `IWM SPY`.")
    symbols: list[str] = []
    for token in _SEPARATORS.split(text.strip()):
        symbol = token.upper()
        if not is_valid_symbol(symbol):
            raise BadInput(f"`{shown(token)}` is not a ticker symbol. Use letters, digits, "
                           "`.`, `-` or `=`, with an optional leading `^` (e.g. `^RUT`).")
        if symbol not in symbols:
            symbols.append(symbol)
    if len(symbols) > MAX_SYMBOLS:
        raise BadInput(f"At most {MAX_SYMBOLS} symbols per chart (got {len(symbols)}).")
    return symbols


def check_choice(name: str, value: str, allowed: Iterable[str]) -> str:
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        raise BadInput(f"`{name}` must be one of {', '.join(options)}; "
                       f"not `{shown(str(value))}`.")
    return value


def check_length(name: str, value: str | None, low: int, high: int) -> str | None:
    """``value`` when it is text of ``low`` to ``high`` characters (None passes: not given).

    The same bounds are declared on the option (``app_commands.Range[str, low, high]``), so
    Discord's client enforces them; this is the check for a request that skipped it. The
    value itself is never echoed (it may be long)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"`{name}` must be text of {low} to {high} characters.")
    if not low <= len(value) <= high:
        raise BadInput(f"`{name}` must be {low} to {high} characters long "
                       f"(got {len(value):,}).")
    return value


def check_range(name: str, value: int | None, low: int, high: int) -> int | None:
    """``value`` when it is a whole number in ``[low, high]`` (None passes: not given)."""
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadInput(f"`{name}` must be a whole number between {low} and {high}.")
    if value is not None and not low <= value <= high:
        raise BadInput(f"`{name}` must be between {low} and {high} (got {value}).")
    return value


def check_known(symbols: Sequence[str], missing: Iterable[str]) -> None:
    """BadInput naming the symbols the data source has no prices for."""
    unknown = [s for s in symbols if s in set(missing)]
    if unknown:
        raise BadInput(f"No prices for {', '.join(unknown)}: the data source does not know "
                       f"{'this symbol' if len(unknown) == 1 else 'these symbols'}.")
