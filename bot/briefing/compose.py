"""Compose the morning post: market snapshot → :class:`~analytics.briefing.Briefing` → charts →
:class:`~bot.briefing.post.BriefingPost`. The fan-out (``bot/briefing/fanout.py``) calls this
once per (session, options variant) and sends the result to every subscriber.

The briefing is computed in a thread (pandas work, ~100 ms); charts go through ``render`` (the
bot passes the warmed process-pool renderer; the CLI renders inline). ``asof`` is capped at the
last session the data holds, so a post never claims data it does not have (the footer then says
which close it reports). Chart failures drop that chart and are logged; the post still goes out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time as _time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import pandas as pd

from analytics.briefing import LEAD_WINDOW, Briefing, compose_briefing
from analytics.charts import Footnote
from analytics.charts.build import leadership_input, records_input
from analytics.charts.inputs import window_label
from analytics.drivers import calc_drivers
from analytics.leadership import InsufficientData
from analytics.series import to_price
from bot.briefing.models import BriefingOptions
from bot.briefing.post import BriefingPost, PostImage, build_post
from bot.data_age import data_age_line
from bot.errors import DataUnavailable
from bot.market_data.inception import INCEPTIONS, inception_of
from bot.market_data.quotes import QuoteReader, reader_for
from bot.market_data.snapshot import MarketSnapshot
from bot.settings import Settings
from bot.singleflight import SingleFlight

log = logging.getLogger(__name__)

#: ``render(kind, data, version) -> PNG bytes``.
RenderFn = Callable[[str, Any, str], Awaitable[bytes]]
SnapshotFn = Callable[[], Awaitable[MarketSnapshot]]
#: (session, data as of, options variant).
ComposeKey = tuple[date, date, str]
FredFn = Callable[[], Awaitable["Mapping[str, pd.Series] | None"]]


#: The window of the post's leadership chart: the headline's own (21 sessions), so the chart's
#: legend shows the headline's figures and its title (the verdict) reads against them. It was
#: 63 sessions, where on 2026-08-20 the Russell led (+6.2% vs +2.8%) under a title saying large
#: caps lead short term.
POST_WINDOW = LEAD_WINDOW


@dataclass(frozen=True)
class ChartSpec:
    kind: str
    filename: str
    title: str


#: The charts of the morning post, in gallery order.
CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("leadership", "leadership.png",
              f"Russell 2000 vs S&P 500, {window_label(POST_WINDOW)}"),
    ChartSpec("records", "records.png", "Russell 2000 records and drought"),
)


async def render_inline(kind: str, data: Any, version: str, theme: str = "dark") -> bytes:
    """Render in a worker thread (CLI and tests; the bot uses the process-pool renderer)."""
    from analytics.charts import render_png
    from bot.render import use_render_path

    use_render_path()
    return await asyncio.to_thread(render_png, kind, data, theme)


def briefing_for(market: MarketSnapshot, asof: date, settings: Settings,
                 fred: Mapping[str, pd.Series] | None = None, *,
                 now: datetime | None = None) -> Briefing:
    """The briefing as of ``asof`` (capped at the data's last session), with the drivers panel
    when it can be computed, labelled with the data's freshness: when it reports the newest
    close held and that is more than one session older than the last completed NYSE session
    at ``now`` (default: the clock), ``data_age`` says how old (:mod:`bot.data_age`)."""
    capped = min(asof, market.asof) if market.asof is not None else asof
    session = session_on_or_before(market, capped)
    age = data_age_line(market.asof, now) if session == market.asof else None
    try:
        panel = calc_drivers(market.bars, session, fred=fred,
                             fred_notes=getattr(fred, "notes", None))
    except Exception:
        log.warning("briefing drivers panel skipped", exc_info=True)
        panel = None
    try:
        return compose_briefing(market.bars, session,
                                gap_days=settings.analytics.breakout_gap_days,
                                round_step=settings.analytics.round_step, drivers=panel,
                                data_asof=market.asof, stale=market.stale,
                                stale_reason=market.stale_reason, inceptions=INCEPTIONS,
                                data_age=age)
    except (InsufficientData, KeyError) as exc:
        raise DataUnavailable(f"cannot compose the briefing: {exc}") from None


async def with_premarket(briefing: Briefing, market: MarketSnapshot,
                         reader: QuoteReader | None = None) -> Briefing:
    """``briefing`` with its pre-market line: RTY=F and ES=F since the close of its ``asof``
    when that is the latest completed session (Yahoo), "no pre-market quotes in replay" for a
    replay, nothing for a past date. Never raises (a failure is the labelled absence)."""
    reader = reader if reader is not None else reader_for(market.source, None)
    premarket = await reader.premarket_for(briefing.asof)
    return briefing if premarket is None else dataclasses.replace(briefing, premarket=premarket)


def session_on_or_before(market: MarketSnapshot, day: date) -> date:
    """The last ``^GSPC`` session on or before ``day`` (the data's own calendar)."""
    ref = market.bars.get("^GSPC")
    if ref is None or ref.empty:
        return day
    held = ref.index[ref.index <= pd.Timestamp(day)]
    return held[-1].date() if len(held) else day


def chart_inputs(market: MarketSnapshot, briefing: Briefing, settings: Settings
                 ) -> dict[str, Any]:
    """Inputs of :data:`CHARTS` as of the briefing's session (a failing one is left out)."""
    foot = Footnote(asof=briefing.asof, stale=market.stale, source=market.source)
    rut, spx = to_price(market.bars["^RUT"]), to_price(market.bars["^GSPC"])
    builders: dict[str, Callable[[], Any]] = {
        "leadership": lambda: leadership_input(rut, spx, POST_WINDOW, briefing.asof, foot),
        "records": lambda: records_input(rut, briefing.asof, foot,
                                         inception=inception_of("^RUT"),
                                         round_step=settings.analytics.round_step),
    }
    out: dict[str, Any] = {}
    for spec in CHARTS:
        try:
            out[spec.kind] = builders[spec.kind]()
        except Exception:
            log.warning("briefing chart %s skipped: no input", spec.kind, exc_info=True)
    return out


class Composer(Protocol):
    """Builds the post for a session (data as of ``asof``) and one options variant."""

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost: ...


class ComposeCache:
    """Composition keyed by (session, asof, variant), single-flight, counting real compositions.

    Concurrent callers for the same key share one composition (:class:`~bot.singleflight.
    SingleFlight`). A finished post is kept for the last ``keep_sessions`` sessions; a failed
    composition is not kept (the next caller tries again), and a post composed from stale data
    is kept only ``stale_ttl`` seconds, so a recovered source is used at once. The last good
    post per variant is remembered as the stale fallback.
    """

    def __init__(self, composer: Composer, keep_sessions: int = 3,
                 stale_ttl: float = 60.0) -> None:
        self._composer = composer
        self._keep = keep_sessions
        self.stale_ttl = stale_ttl
        self._flights: SingleFlight[ComposeKey, BriefingPost] = SingleFlight()
        #: Finished posts and when they were composed (``time.monotonic``).
        self._kept: dict[ComposeKey, tuple[BriefingPost, float]] = {}
        self.last_good: dict[str, BriefingPost] = {}
        self.compositions = 0

    async def get(self, session: date, asof: date, options: BriefingOptions) -> BriefingPost:
        key = (session, asof, options.variant)
        kept = self._kept.get(key)
        if kept is not None:
            post, born = kept
            if not post.stale or _time.monotonic() - born <= self.stale_ttl:
                return post
            del self._kept[key]
        return await self._flights.run(key, lambda: self._compose(key, options))

    def clear(self) -> None:
        """Forget every finished post (work in flight is left to finish)."""
        self._kept.clear()

    async def _compose(self, key: ComposeKey, options: BriefingOptions) -> BriefingPost:
        session, asof, _ = key
        self.compositions += 1
        log.info("composing briefing for %s (data as of %s), %s", session, asof, options.variant)
        post = await self._composer.compose(session, asof, options)
        self._kept[key] = (post, _time.monotonic())
        if not post.stale:
            self.last_good[options.variant] = post
        self._trim()
        return post

    def _trim(self) -> None:
        sessions = sorted({k[0] for k in self._kept})
        for old in sessions[:-self._keep]:
            for key in [k for k in self._kept if k[0] == old]:
                del self._kept[key]


class BriefingComposer:
    """Implements :class:`Composer`; counts compositions and renders."""

    def __init__(self, settings: Settings, snapshot: SnapshotFn,
                 render: RenderFn = render_inline, *,
                 fred: Mapping[str, pd.Series] | FredFn | None = None,
                 quotes: QuoteReader | None = None) -> None:
        """``fred``: the FRED series, or an async function returning them for each composition
        (the bot's :meth:`~bot.market_data.service.MarketData.fred`: refreshed, labelled);
        ``quotes``: the valuation/pre-market reader (None: replay labels)."""
        self.settings = settings
        self._quotes = quotes
        self._snapshot = snapshot
        self._render = render
        self._fred = fred
        self.compositions = 0
        self.renders = 0

    async def compose(self, session: date, asof: date, options: BriefingOptions
                      ) -> BriefingPost:
        self.compositions += 1
        market = await self._snapshot()
        fred = await self._fred() if callable(self._fred) else self._fred
        briefing = await asyncio.to_thread(briefing_for, market, asof, self.settings, fred)
        briefing = await with_premarket(briefing, market, self._quotes)
        return await self.post_for(briefing, market, session, options)

    async def post_for(self, briefing: Briefing, market: MarketSnapshot, session: date,
                       options: BriefingOptions) -> BriefingPost:
        """The post of an already composed ``briefing`` (charts rendered here)."""
        images = await self.images(market, briefing) if options.charts else []
        return build_post(briefing, session=session, options=options, images=images,
                          source=market.source)

    async def images(self, market: MarketSnapshot, briefing: Briefing) -> list[PostImage]:
        inputs = await asyncio.to_thread(chart_inputs, market, briefing, self.settings)
        specs = [s for s in CHARTS if s.kind in inputs]
        results = await asyncio.gather(
            *(self._render(s.kind, inputs[s.kind], f"{market.version}:{briefing.asof}")
              for s in specs), return_exceptions=True)
        images = []
        for spec, result in zip(specs, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("briefing chart %s failed: %s", spec.kind, result)
                continue
            self.renders += 1
            images.append(PostImage(spec.filename, result, spec.title))
        return images
