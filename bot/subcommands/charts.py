"""``python -m bot charts --out DIR [--asof DATE] [--theme dark|light]``: the chart gallery.

Renders every chart family (the custom kinds included) as of a session through the real render
pool, writes ``<name>.png`` files and an ``index.html`` that shows them all. Data comes only
through :func:`bot.market_data.service.build_market_data`. A chart that cannot be drawn from
the data is listed in the page with the reason instead of failing the whole gallery.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.charts import Footnote
from analytics.charts import build as cb
from analytics.drivers import calc_drivers
from analytics.series import to_price
from analytics.studies.analogs import calc_analogs
from analytics.studies.breakouts import calc_breakout_study
from analytics.studies.track_record import calc_track_record
from bot.asof import parse_asof
from bot.errors import BadInput, UserFacingError
from bot.market_data.inception import inception_of
from bot.market_data.service import build_market_data
from bot.market_data.snapshot import MarketSnapshot
from bot.render import Renderer, footnote_for
from bot.settings import Settings
from bot.subcommands.status import resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GalleryChart:
    name: str
    kind: str
    params: dict[str, Any]
    title: str
    build: Callable[[], Any]


def register(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "charts", parents=parents, help="render every chart family to PNGs plus index.html",
        description="Render the chart gallery (every family and custom kind) as of a session.")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--asof", metavar="YYYY-MM-DD", help="replay this session")
    parser.add_argument("--theme", choices=("dark", "light"), default=None,
                        help="chart theme (default: charts.theme from the config)")
    parser.set_defaults(handler=run)


def gallery_charts(market: MarketSnapshot, asof: date, settings: Settings,
                   fred: Mapping[str, pd.Series] | None) -> list[GalleryChart]:
    """Every chart of the gallery with its request params and a lazy input builder."""
    foot: Footnote = footnote_for(market, asof)
    bars = market.bars
    price = {s: to_price(f) for s, f in bars.items() if len(f)}
    rut, spx = price["^RUT"], price["^GSPC"]
    step = settings.analytics.round_step

    def custom(symbols: tuple[str, ...], kind: str, window: str) -> Callable[[], Any]:
        return lambda: cb.custom_input([(s, price[s]) for s in symbols], kind, window, asof, foot)

    def breakouts(index: str = "spx") -> Callable[[], Any]:
        def make() -> Any:
            study = calc_breakout_study(rut, spx, asof,
                                        gap_days=settings.analytics.breakout_gap_days,
                                        inception=inception_of("^RUT"))
            return cb.from_breakout_study(study, spx, foot, rut=rut, index=index)
        return make

    def analogs() -> Any:
        drivers: dict[str, pd.Series] = {s: price[s] for s in ("^TNX", "^VIX") if s in price}
        study = calc_analogs(rut, spx, asof, drivers=drivers, inception=inception_of("^RUT"))
        return cb.from_analog_study(study, rut, spx, foot)

    def drivers() -> Any:
        return cb.from_drivers_panel(calc_drivers(bars, asof, fred=fred), bars, foot, fred=fred)

    charts = [
        GalleryChart("leadership-1m", "leadership", {"window": "1m"}, "Leadership, 1 month",
                     lambda: cb.leadership_input(rut, spx, "1m", asof, foot)),
        GalleryChart("leadership-1y", "leadership", {"window": "1y"}, "Leadership, 1 year",
                     lambda: cb.leadership_input(rut, spx, "1y", asof, foot)),
        GalleryChart("leadership-5y", "leadership", {"window": "5y"}, "Leadership, 5 years",
                     lambda: cb.leadership_input(rut, spx, "5y", asof, foot)),
        GalleryChart("records", "records", {"round_step": step}, "Russell 2000 records",
                     lambda: cb.records_input(rut, asof, foot, round_step=step,
                                              inception=inception_of("^RUT"))),
        GalleryChart("breakouts", "breakouts", {}, "S&P 500 after breakouts", breakouts()),
        GalleryChart("breakouts-both", "breakouts", {"index": "both"},
                     "S&P 500 and Russell 2000 after breakouts", breakouts("both")),
        GalleryChart("cycles", "cycles", {}, "Leadership cycles since 1979",
                     lambda: cb.cycles_input(rut, spx, asof, foot)),
        GalleryChart("analogs", "analogs", {}, "Days like today: RUT/SPX after analogs",
                     analogs),
        GalleryChart("drivers", "drivers", {}, "Drivers", drivers),
        GalleryChart("track-record", "track_record", {}, "Track record of the call",
                     lambda: cb.from_track_record(calc_track_record(bars, asof), foot)),
        GalleryChart("custom-price", "custom", {"s": ["^RUT"], "kind": "price", "w": "6m"},
                     "Custom: price, one symbol, 6 months", custom(("^RUT",), "price", "6m")),
        GalleryChart("custom-price-4", "custom",
                     {"s": ["^RUT", "^GSPC", "^VIX", "^TNX"], "kind": "price", "w": "1y"},
                     "Custom: price, four symbols, 1 year",
                     custom(("^RUT", "^GSPC", "^VIX", "^TNX"), "price", "1y")),
        GalleryChart("custom-rebased", "custom",
                     {"s": ["IWM", "SPY", "QQQ"], "kind": "rebased", "w": "ytd"},
                     "Custom: rebased, year to date", custom(("IWM", "SPY", "QQQ"), "rebased",
                                                             "ytd")),
        GalleryChart("custom-rebased-max", "custom",
                     {"s": ["^RUT", "^GSPC"], "kind": "rebased", "w": "max"},
                     "Custom: rebased, all history (log)",
                     custom(("^RUT", "^GSPC"), "rebased", "max")),
        GalleryChart("custom-ratio", "custom", {"s": ["IWM", "SPY"], "kind": "ratio", "w": "5y"},
                     "Custom: ratio, 5 years", custom(("IWM", "SPY"), "ratio", "5y")),
        GalleryChart("custom-drawdown", "custom",
                     {"s": ["^RUT", "^GSPC"], "kind": "drawdown", "w": "3y"},
                     "Custom: drawdown, 3 years", custom(("^RUT", "^GSPC"), "drawdown", "3y")),
    ]
    return [c for c in charts if all(s in price for s in c.params.get("s", []))]


async def render_gallery(settings: Settings, data_dir: Path | None, out: Path,
                         requested: date | None, theme: str) -> list[tuple[GalleryChart, str]]:
    """Render every chart to ``out``; returns (chart, file name or "error: reason")."""
    market_data = build_market_data(settings, data_dir)
    try:
        market = await market_data.snapshot()
        fred = await market_data.fred()
    finally:
        await market_data.close()
    session = resolve(market, requested).session
    charts = gallery_charts(market, session, settings, fred)
    renderer = Renderer(pool_size=settings.render.pool_size,
                        cache_entries=settings.render.cache_entries, theme=theme)
    await renderer.start()
    try:
        results = await asyncio.gather(
            *(renderer.render(c.kind, {**c.params, "asof": session.isoformat()}, c.build,
                              version=market.version) for c in charts),
            return_exceptions=True)
    finally:
        await renderer.close()
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    written: list[tuple[GalleryChart, str]] = []
    for chart, result in zip(charts, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, UserFacingError):
                log.error("chart %s failed", chart.name, exc_info=result)
            written.append((chart, f"error: {result}"))
            continue
        name = f"{chart.name}.png"
        (out / name).write_bytes(result)
        written.append((chart, name))
    (out / "index.html").write_text(index_html(written, session, theme, market), "utf-8")
    return written


def index_html(items: list[tuple[GalleryChart, str]], session: date, theme: str,
               market: MarketSnapshot) -> str:
    """A page showing every chart at full size and at Discord's ~500 px preview size."""
    bg = "#313338" if theme == "dark" else "#ffffff"
    fg = "#f2f3f5" if theme == "dark" else "#1e1f22"
    cards = []
    for chart, file in items:
        title = html.escape(chart.title)
        if file.startswith("error:"):
            cards.append(f"<section><h2>{title}</h2><p class=err>{html.escape(file)}</p></section>")
            continue
        src = html.escape(file)
        cards.append(f"<section><h2>{title}</h2><a href='{src}'><img src='{src}' width=1200>"
                     f"</a><img class=small src='{src}' width=500 alt='{title} at 500 px'>"
                     "</section>")
    stale = " · STALE" if market.stale else ""
    return (f"<!doctype html><html><head><meta charset=utf-8><title>capbrief charts "
            f"{session.isoformat()}</title><style>body{{background:{bg};color:{fg};"
            "font-family:sans-serif;margin:24px}img{display:block;margin:8px 0;max-width:100%}"
            "img.small{max-width:500px}.err{color:#ed4245}</style></head><body>"
            f"<h1>capbrief chart gallery · {session.isoformat()} · {html.escape(theme)} theme"
            f"{stale}</h1><p>Source: {html.escape(market.source)}; each chart at full size and "
            f"at Discord's ~500 px preview width.</p>{''.join(cards)}</body></html>\n")


def run(args: argparse.Namespace, settings: Settings) -> int:
    requested = parse_asof(args.asof)
    theme = args.theme or settings.charts.theme
    if args.out.exists() and not args.out.is_dir():
        raise BadInput(f"--out {args.out} exists and is not a directory")
    started = time.perf_counter()
    written = asyncio.run(render_gallery(settings, args.data_dir, args.out, requested, theme))
    failed = [(c, f) for c, f in written if f.startswith("error:")]
    for chart, file in written:
        print(f"{chart.name:22s} {file}")
    print(f"{len(written) - len(failed)} chart(s) written to {args.out} "
          f"in {time.perf_counter() - started:.1f} s; open {args.out / 'index.html'}")
    return 1 if failed else 0
