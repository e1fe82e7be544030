"""Alert parameters: one frozen dataclass, filled from ``[alerts]`` in the settings by the bot.

Defaults here equal the settings' defaults (a test checks it), so analytics can run alone.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every event kind, in the order a batch lists them (stable names: subscriptions use them).
EVENT_KINDS: tuple[str, ...] = ("record", "breakout", "level_cross", "ma_cross", "cycle_turn",
                                "drought")
EVENT_TITLES: dict[str, str] = {
    "record": "Russell 2000 record close",
    "breakout": "Breakout",
    "level_cross": "Round-level cross",
    "ma_cross": "RUT/SPX crosses its average",
    "cycle_turn": "Leadership-cycle turn",
    "drought": "Record-drought milestone",
}


@dataclass(frozen=True)
class AlertParams:
    """What makes each event fire (``docs/alerts.md`` states every rule).

    - ``rut_step`` / ``spx_step``: round-level spacing in index points for ^RUT / ^GSPC.
    - ``level_band``: hysteresis, a fraction of the level: once a level has fired, it fires
      again (the other way) only on a close at least ``level_band * level`` beyond it.
    - ``ma_windows``: the RUT/SPX averages watched (sessions); ``ma_confirm``: consecutive
      closes on the new side needed to confirm a cross (the event fires on the last of them).
    - ``cycle_swing``: the cycles study's reversal that confirms a leadership turn.
    - ``breakout_gap_days``: days without a record before a record is a breakout.
    - ``drought_years``: milestones, in years of 365 days without a record close.
    - ``horizons``: forward sessions for "what followed" (21 ≈ 1 month, 63 ≈ 3, 252 ≈ 12).
    """

    rut_step: float = 100.0
    spx_step: float = 250.0
    level_band: float = 0.01
    ma_windows: tuple[int, ...] = (50, 200)
    ma_confirm: int = 3
    cycle_swing: float = 0.15
    breakout_gap_days: int = 365
    drought_years: tuple[int, ...] = (1, 2, 3)
    horizons: tuple[int, ...] = (21, 63, 252)

    def __post_init__(self) -> None:
        if not (self.rut_step > 0 and self.spx_step > 0):
            raise ValueError("level steps must be positive")
        if not 0 <= self.level_band < 1:
            raise ValueError("level_band must be a fraction in [0, 1)")
        if not self.ma_windows or min(self.ma_windows) < 2:
            raise ValueError("ma_windows must be averages of at least 2 sessions")
        if self.ma_confirm < 1:
            raise ValueError("ma_confirm must be at least 1 session")
        if not 0 < self.cycle_swing < 1:
            raise ValueError("cycle_swing must be a fraction between 0 and 1")
        if self.breakout_gap_days < 1:
            raise ValueError("breakout_gap_days must be at least 1")
        if not self.drought_years or min(self.drought_years) < 1:
            raise ValueError("drought_years must be whole years of at least 1")
        if not self.horizons or min(self.horizons) < 1:
            raise ValueError("horizons must be positive session counts")
