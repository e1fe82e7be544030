"""JSON as an interface: every ``--json`` document goes out through :func:`dumps`, which stamps
it with its shape's name and ``schema_version`` and rounds each number to what it means.

Shapes are described by JSON Schema files (draft 2020-12) in ``docs/schema/``, one per
:data:`SCHEMAS` entry, and ``docs/schema/README.md`` states the units. ``schema_version`` is
``MAJOR.MINOR``: MINOR grows when keys are added (consumers ignore keys they do not know),
MAJOR when a key is removed, renamed or changes meaning.

Rounding (one step, here, by field semantics, never a blanket round):

- levels (index points, prices, round levels): to the cent, 2 decimals;
- returns, changes, drawdowns, distances, shares: fractions with 4 decimals (0.01%);
  daily average returns (the rates study): 6 decimals (0.0001%), as the text shows 3 decimals
  of a percent;
- the RUT/SPX ratio and its averages: 5 decimals (≈ 0.01% of its ~0.4 level);
- driver readings by their stated unit: a yield or spread level in % to 2 decimals (1 bp), a
  change in ``bp`` to a whole basis point, ``pp`` and ``pts`` to 2 decimals, ``fraction`` to 4,
  a ``ratio`` level to 4, ``thousands`` to 1; z-scores 2 decimals, correlations 3;
- anything else (a float this table does not name): 6 significant digits, which removes binary
  noise (``-19.79999999999995`` → ``-19.8``) without claiming a unit.

Integers, booleans, strings and null pass unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = "1.0"

#: Shape name → schema file in docs/schema/.
SCHEMAS: dict[str, str] = {
    "status": "status.schema.json",
    "briefing": "briefing.schema.json",
    "drivers": "drivers.schema.json",
    "history.breakouts": "history-breakouts.schema.json",
    "history.droughts": "history-droughts.schema.json",
    "history.cycles": "history-cycles.schema.json",
    "history.rates": "history-rates.schema.json",
    "data.show": "data-show.schema.json",
    "history.analogs": "history-analogs.schema.json",
    "drivers.walk_forward": "drivers-walk-forward.schema.json",
    "history.track-record": "history-track-record.schema.json",
}

CENTS, RETURN, DAILY_RETURN, RATIO, SIGNIFICANT = 2, 4, 6, 5, 6

_LEVELS = ("level", "open", "high", "low", "close", "adj_close", "record_close",
           "previous_record_close", "previous_high_close", "high_close", "last_record_close",
           "last_high_close", "nearest_level", "next_level", "round_step")
_RETURNS = ("drawdown", "depth", "next_level_distance", "nearest_level_distance", "vs_sma50",
            "vs_sma200", "sma200_slope", "lead_margin", "relative_return", "rut_return",
            "spx_return", "current_from_extreme", "spx_return_so_far", "rut_return_so_far",
            "spx_so_far", "rut_so_far", "spx_mean", "rut_mean", "spx_median", "rut_median",
            "mean", "median", "min", "max", "hit_rate", "swing", "small_beat_share",
            "difference")

#: Decimals by key name (the last key of the path).
BY_KEY: dict[str, int] = {
    **dict.fromkeys(_LEVELS, CENTS),
    **dict.fromkeys(_RETURNS, RETURN),
    **dict.fromkeys(("ratio", "sma50", "sma200"), RATIO),
    "years": 2, "bp": 1, "zscore": 2, "corr": 3,
}
#: Every value of a mapping under these keys (e.g. ``returns: {"1m": ...}``).
BY_PARENT: dict[str, int] = dict.fromkeys(
    ("returns", "ratio_changes", "spx_forward_returns", "rut_forward_returns"), RETURN)
#: (parent key, key) pairs that mean something else than the key alone.
BY_CONTEXT: dict[tuple[str, str], int] = {
    ("valuation", "iwm"): 2, ("valuation", "spy"): 2, ("valuation", "ivw"): 2,
}
#: Per shape: keys whose meaning differs in that document.
BY_SHAPE: dict[str, dict[str, int]] = {
    "history.rates": dict.fromkeys(("rut_mean", "spx_mean", "difference"), DAILY_RETURN),
    "history.analogs": dict.fromkeys(("relative", "rut", "spx", "rel_1m", "rel_3m", "band_low",
                                      "band_high", "p_value"), RETURN),
}
#: Driver readings state their units: ``level_unit`` / ``change_unit`` → decimals.
LEVEL_UNITS = {"%": 2, "pts": 2, "price": 2, "ratio": 4, "thousands": 1}
CHANGE_UNITS = {"bp": 0, "fraction": 4, "pp": 2, "pts": 2}
_UNIT_KEYS = {"level": "level_unit", "change_1m": "change_unit", "change_3m": "change_unit"}


def round_float(value: float, decimals: int | None) -> float | None:
    """``value`` to ``decimals`` places (None: :data:`SIGNIFICANT` significant digits);
    non-finite → None; never ``-0.0``."""
    if not math.isfinite(value):
        return None
    out = round(value, decimals) if decimals is not None else float(f"{value:.{SIGNIFICANT}g}")
    return out + 0.0  # -0.0 + 0.0 == 0.0


def _decimals(shape: str, parent: str, key: str, siblings: Mapping[str, Any]) -> int | None:
    unit_key = _UNIT_KEYS.get(key)
    if unit_key is not None and isinstance(siblings.get(unit_key), str):
        table = LEVEL_UNITS if unit_key == "level_unit" else CHANGE_UNITS
        return table.get(siblings[unit_key])
    if key in BY_SHAPE.get(shape, {}):
        return BY_SHAPE[shape][key]
    if (parent, key) in BY_CONTEXT:
        return BY_CONTEXT[(parent, key)]
    if parent in BY_PARENT:
        return BY_PARENT[parent]
    return BY_KEY.get(key)


def round_document(value: Any, shape: str = "", *, parent: str = "", key: str = "",
                   siblings: Mapping[str, Any] | None = None) -> Any:
    """A copy of the JSON-ready ``value`` with every float rounded by its meaning (see the
    module doc). Lists keep their parent's key (``events[]`` rows are read as ``events``)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return round_float(value, _decimals(shape, parent, key, siblings or {}))
    if isinstance(value, Mapping):
        return {k: round_document(v, shape, parent=key, key=str(k), siblings=value)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_document(v, shape, parent=parent, key=key, siblings=siblings)
                for v in value]
    raise TypeError(f"not JSON-ready: {type(value).__name__} (use to_jsonable first)")


def document(shape: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """``{"schema": shape, "schema_version": ..., **doc}`` with numbers rounded (a shape
    without a schema file still goes out; ``tests/ui/test_json_schemas.py`` asks for one)."""
    body = round_document(dict(doc), shape)
    return {"schema": shape, "schema_version": SCHEMA_VERSION, **body}


def dumps(shape: str, doc: Mapping[str, Any]) -> str:
    """The text a ``--json`` command prints: :func:`document`, indented (ASCII-escaped, so any
    terminal encoding can print it)."""
    return json.dumps(document(shape, doc), indent=2)
