"""One verdict on the real history (../shared/data/market; skipped without it): every session
since 1990, no output whose parts disagree (headline, chart title, trend field, JSON), and the
issue's examples on their real dates."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics.briefing import compose_briefing
from analytics.charts.build import leadership_input
from analytics.charts.inputs import Footnote
from analytics.leadership import calc_leadership_snapshot, calc_relative_strength, to_ratio
from analytics.series import to_price
from analytics.verdict import Verdict, calc_verdict, calc_verdict_series, verdict_from_relative
from bot.briefing.models import BriefingOptions
from bot.briefing.post import build_post
from bot.market_data.inception import INCEPTIONS
from bot.market_data.service import build_market_data
from bot.settings import load_settings
from bot.ui.embeds import status_embed
from bot.ui.text import render_briefing_text, to_jsonable, verdict_lines

pytestmark = pytest.mark.shared_data
SYMBOLS = ("^RUT", "^GSPC", "IWM", "SPY")
HORIZON_WORDS = (("every horizon", ("month", "fifty_day", "trend")),
                 ("short term", ("month", "fifty_day")), ("month", ("month",)),
                 ("50-day", ("fifty_day",)), ("200-day", ("trend",)), ("trend", ("trend",)))


@pytest.fixture(scope="module")
def real_bars(market_dir: Path) -> Mapping[str, pd.DataFrame]:
    market = build_market_data(load_settings(), market_dir)
    return asyncio.run(market.snapshot(SYMBOLS)).bars


def claims(text: str) -> set[tuple[str, str]]:
    """Every (horizon, side) a sentence or title claims: each clause (split at ; : , . and an
    opening parenthesis) naming "small caps" or "large caps" claims the horizons it names."""
    out: set[tuple[str, str]] = set()
    for clause in re.split(r"[;:,.(]", text.lower().replace("(21 sessions)", "")):
        side = "small" if "small caps" in clause else "large" if "large caps" in clause else None
        if side is None:
            continue
        for word, horizons in HORIZON_WORDS:
            if word in clause:
                out |= {(h, side) for h in horizons}
    return out


def line_claims(lines: list[str]) -> set[tuple[str, str]]:
    """Claims of :func:`bot.ui.text.verdict_lines`: ``"<horizon>: <side> caps lead (...)"``."""
    keys = {"21 sessions": "month", "50-day average": "fifty_day", "200-day trend": "trend"}
    out = set()
    for line in lines:
        head, _, rest = line.partition(":")
        if head not in keys:  # a title or headline line: see claims()
            continue
        for side in ("small", "large"):
            if rest.strip().startswith(f"{side} caps lead"):
                out.add((keys[head], side))
    return out


def assert_agrees(v: Verdict, where: str, found: set[tuple[str, str]]) -> None:
    """Nothing claimed that the verdict does not call; a one-sided verdict is never contradicted."""
    called = {(h.key, h.side) for h in v.horizons}
    assert found <= called, (v.asof, where, found - called)
    if v.leader in ("small", "large"):
        assert {s for _, s in found} <= {v.leader}, (v.asof, where)


def test_every_session_since_1990_agrees_with_itself(real_bars: Mapping[str, pd.DataFrame]
                                                     ) -> None:
    """The vectorised labels equal the scalar call, and for every session the verdict's
    sentence (the headline), title (chart and embed titles), horizon lines (the post's
    field, /status, the text), the trend regime's label and the JSON all say the same."""
    ratio = to_ratio(real_bars)
    labels = calc_verdict_series(real_bars, date(1990, 1, 1))
    assert labels.index[0] >= pd.Timestamp("1990-01-01") and len(labels) > 9000
    assert "unknown" not in set(labels)
    for ts, label in labels.items():
        rel = calc_relative_strength(ratio, ts.date())
        v = verdict_from_relative(rel)
        assert v.leader == label, ts
        sentence, title = claims(v.sentence), claims(v.title)
        lines = line_claims(verdict_lines(v, rel))
        regime = claims(rel.regime_label)
        doc = to_jsonable(v)
        json = {(k, doc[k]["side"]) for k in ("month", "fifty_day", "trend")
                if doc[k]["side"] in ("small", "large")}
        for where, found in (("sentence", sentence), ("title", title), ("lines", lines),
                             ("regime", regime), ("json", json)):
            assert_agrees(v, where, found)
        assert doc["leader"] == label
        assert lines == {(h.key, h.side) for h in v.horizons if h.side in ("small", "large")}
        if v.leader == "mixed":
            assert {s for _, s in sentence} == {"small", "large"}, ts


def _leadership_lines(text: str) -> str:
    """The text briefing's "Leadership: <title>: <line>; <line>; <line>" paragraph (wrapped),
    as one horizon line a row."""
    rows = text.splitlines()
    start = next(i for i, row in enumerate(rows) if row.startswith("Leadership: "))
    para = [rows[start]]
    for row in rows[start + 1:]:
        if not row.startswith("  "):
            break
        para.append(row.strip())
    body = " ".join(para).removeprefix("Leadership: ")
    return "\n".join(body.split(": ", 1)[1].split("; "))


def _outputs(bars: Mapping[str, pd.DataFrame], day: date) -> dict[str, str]:
    """The texts a reader sees for ``day``: headline, text briefing, post field, chart title,
    /status embed title and description."""
    b = compose_briefing(bars, day, inceptions=INCEPTIONS)
    post = build_post(b, session=day, options=BriefingOptions())
    field = next(f.value for f in post.fields if f.name == "Leadership by horizon")
    chart = leadership_input(to_price(bars["^RUT"]), to_price(bars["^GSPC"]), "3m", day,
                             Footnote(day))
    embed = status_embed(calc_leadership_snapshot(bars, day, inceptions=INCEPTIONS),
                         source="csv", stale=False, stale_reason=None)
    text = render_briefing_text(b, morning=day)
    return {"headline": b.headline, "text": text, "text_lines": _leadership_lines(text),
            "field": field, "chart": chart.title, "embed_title": embed.title or "",
            "embed": embed.description or "", "leader": b.leader,
            "json": str(to_jsonable(b)["leader"])}


@pytest.mark.parametrize("day", [date(2024, 11, 29), date(2024, 12, 2), date(2025, 9, 18),
                                 date(2026, 8, 20)])
def test_the_whole_output_agrees_on_the_issue_dates(real_bars: Mapping[str, pd.DataFrame],
                                                    day: date) -> None:
    v = calc_verdict(real_bars, day)
    out = _outputs(real_bars, day)
    assert out["leader"] == out["json"] == v.leader
    assert out["headline"].startswith(v.sentence) and out["chart"] == v.title
    assert out["embed_title"].startswith(v.title)
    for name in ("headline", "chart", "embed_title"):
        assert_agrees(v, name, claims(out[name]))
    for name in ("field", "embed", "text_lines"):
        assert_agrees(v, name, line_claims([x.strip("• *") for x in out[name].splitlines()]))
    assert "on top for" not in out["field"] and not re.search(r"-0\.0+%", out["text"])


def test_a_sample_of_sessions_agrees_end_to_end(real_bars: Mapping[str, pd.DataFrame]) -> None:
    """The full composition (briefing, post, chart input, /status embed) on every 150th
    session since 1990: the same call everywhere, and never a "-0.0%"."""
    days = calc_verdict_series(real_bars, date(1990, 1, 1)).index[::150]
    for ts in days:
        v = calc_verdict(real_bars, ts.date())
        out = _outputs(real_bars, ts.date())
        assert out["leader"] == out["json"] == v.leader, ts
        assert out["chart"] == v.title and out["embed_title"].startswith(v.title), ts
        assert_agrees(v, "headline", claims(out["headline"]))
        assert not re.search(r"-0\.0+%", out["text"]), ts


def test_2026_08_20_reads_as_one_call(real_bars: Mapping[str, pd.DataFrame]) -> None:
    """The issue's post: headline "Large caps lead ... over the past month", chart "Small caps
    lead over 3 months", trend field "Small caps leading" and "Large caps on top for 15
    sessions". Now one call, the pullback named."""
    out = _outputs(real_bars, date(2026, 8, 20))
    assert out["headline"].startswith(
        "Large caps lead the past month (21 sessions) and the 50-day average; small caps still "
        "lead the 200-day trend (a pullback inside small-cap leadership).")
    assert out["chart"] == "Mixed: large caps lead short term, small caps the trend"
    assert out["field"].splitlines()[1:] == [
        "21 sessions: large caps lead (RUT/SPX -0.8%)",
        "50-day average: large caps lead (RUT/SPX below it for 15 sessions, since 2026-07-31)",
        "200-day trend: small caps lead (RUT/SPX above its rising 200-day average)"]


@pytest.mark.parametrize("day", [date(2024, 12, 2), date(2025, 9, 18), date(2026, 8, 20)])
def test_the_posts_chart_shows_the_headlines_window_and_figures(
        real_bars: Mapping[str, pd.DataFrame], day: date) -> None:
    """The morning post's leadership chart draws the headline's window, so its legend figures
    are the headline's "Past 21 sessions" returns (2026-08-20 once showed 63 sessions, where
    the Russell led, under a title saying large caps lead short term)."""
    from analytics.briefing import LEAD_WINDOW
    from bot.briefing.compose import POST_WINDOW

    b = compose_briefing(real_bars, day, inceptions=INCEPTIONS)
    chart = leadership_input(to_price(real_bars["^RUT"]), to_price(real_bars["^GSPC"]),
                             POST_WINDOW, day, Footnote(day))
    assert POST_WINDOW == LEAD_WINDOW and chart.title == b.verdict.title
    rows = {r.symbol: r for r in b.leadership.scoreboard}
    assert chart.rut_change == pytest.approx(rows["^RUT"].returns[LEAD_WINDOW], abs=1e-12)
    assert chart.spx_change == pytest.approx(rows["^GSPC"].returns[LEAD_WINDOW], abs=1e-12)
