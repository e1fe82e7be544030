"""Number formatting shared by every output (text, Discord, HTML, charts): one rule each.

- :func:`pct`: a fraction as a percentage, ``+1.2%`` / ``-0.4%``; a value that rounds to zero
  at the digits shown prints unsigned (``0.0%``), never ``-0.0%`` or ``+0.0%``; ``n/a`` for
  None, NaN or infinity. ``signed=False`` drops the ``+`` (magnitudes: "2.5% below").
- :func:`ordinal`: ``1st``, ``2nd``, ``3rd``, ``11th``, ``1,001st``.
"""

from __future__ import annotations

import math


def pct(value: float | None, digits: int = 1, *, signed: bool = True) -> str:
    """``value`` (a fraction) as a percentage with ``digits`` decimals (see module doc)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:+.{digits}%}" if signed else f"{value:.{digits}%}"
    if not any(c in "123456789" for c in text):  # rounds to zero: no sign
        return f"{0.0:.{digits}%}"
    return text


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``–``13th``, ``21st``, ``1,001st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"
