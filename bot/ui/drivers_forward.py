"""The drivers walk-forward record as a Markdown table (``python -m bot drivers --walk-forward``;
pasted into ``docs/drivers.md``)."""

from __future__ import annotations

from analytics.drivers import MARKET_SPECS, SAME_BASKET
from analytics.economy import ECONOMY_SPECS
from analytics.relation import MIN_PAIRS
from analytics.studies.drivers_forward import PAST, DriversForward, ForwardScore, describe_record

#: Display names of every driver key (the panel's own names).
DRIVER_NAMES = {**{s.key: s.name for s in MARKET_SPECS}, **{e.key: e.name for e in ECONOMY_SPECS},
                "credit": "Credit (FRED HY spread, else HYG/LQD)"}


def _cell(score: ForwardScore | None) -> str:
    """``+0.04 [−0.05, +0.13] p=0.41 n=439``; a dash when not measurable."""
    if score is None or score.relation is None:
        if score is not None and score.called < MIN_PAIRS:
            return f"— ({score.called} calls: too few)"
        return "—"
    rel = score.relation
    corr = f"**{rel.corr:+.2f}**" if rel.reliable else f"{rel.corr:+.2f}"
    text = f"{corr} [{rel.low:+.2f}, {rel.high:+.2f}] p={rel.p_value:.2f} n={rel.periods}"
    return text.replace("-", "−")


def render_walk_forward(forward: DriversForward) -> str:
    """One row per driver, then the composite and the lean: Spearman rho [95% CI] p n against
    the next 21 and 63 sessions and the past 21 (bold when the interval excludes zero)."""
    horizons = sorted({s.horizon for s in forward.scores if s.horizon > 0})
    head = ["Signal", "Calls", *[f"next {h} sessions" for h in horizons],
            f"past {PAST} sessions"]
    lines = [describe_record(forward) + ".", "",
             f"Evaluation points: every {forward.step} sessions, {forward.first} to "
             f"{forward.last} (as of {forward.asof}).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = list(dict.fromkeys(s.key for s in forward.scores))
    for key in keys:
        first = forward.score(key, horizons[0])
        name = DRIVER_NAMES.get(key, first.name if first else key)
        if key in SAME_BASKET:
            lines.append(f"| {name} | descriptive, never called | " +
                         " | ".join("—" for _ in horizons) + " | — |")
            continue
        called = f"{first.called}/{first.points}" if first else "—"
        cells = [_cell(forward.score(key, h)) for h in horizons]
        lines.append(f"| {name} | {called} | " + " | ".join(cells) +
                     f" | {_cell(forward.score(key, -PAST))} |")
    return "\n".join(lines) + "\n"
