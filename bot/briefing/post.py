"""The morning post as data: one embed (title, summary, fields, colour) plus chart PNGs.

:class:`BriefingPost` is composed once and sent many times, so it holds only immutable values
(bytes, strings); :meth:`BriefingPost.files` builds fresh ``discord.File`` objects for every
message (a ``discord.File`` cannot be re-sent). Charts are attached as ``attachment://`` images:
the first inside the main embed, the others in image-only embeds of the same colour below it
(no fake ``url`` to force a gallery: the title stays plain text). The same post renders to Markdown
(:meth:`BriefingPost.markdown`) and to an HTML page (``bot/ui/html.py``).
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from analytics.verdict import verdict_from_relative
from bot.briefing.models import BriefingOptions
from bot.market_data import calendar
from bot.market_data.demo import banner, is_demo
from bot.market_data.fred import VINTAGE_FOOTER
from bot.ui.embeds import fit, footer_text, leader_colour
from bot.ui.text import briefing_title, fmt_level, fmt_pct, verdict_lines, window_header

if TYPE_CHECKING:
    from analytics.briefing import Briefing

#: Discord limits we stay under (embed title 256, description 4096, field value 1024, 25 fields).
MAX_TITLE, MAX_DESCRIPTION, MAX_FIELD, MAX_FIELDS, MAX_IMAGES = 256, 4096, 1024, 25, 4
NEUTRAL_COLOR = 0x99AAB5


@dataclass(frozen=True)
class PostImage:
    filename: str
    data: bytes
    title: str = ""


@dataclass(frozen=True)
class PostField:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class BriefingPost:
    """Everything a subscriber sees for one session and options variant."""

    session: date
    asof: date
    title: str
    description: str
    color: int = NEUTRAL_COLOR
    fields: tuple[PostField, ...] = ()
    footer: str = ""
    images: tuple[PostImage, ...] = ()
    early_close: bool = False
    notice: str | None = None  # e.g. the early-close line, shown first
    stale: bool = False  # composed from data the source could not refresh
    marker: str = ""  # the delivery's nonce, printed in the footer (reconcile looks for it)

    def marked(self, marker: str) -> BriefingPost:
        """This post carrying ``marker`` (``ref cb12-20261124`` at the end of the footer)."""
        return dataclasses.replace(self, marker=marker)

    def as_stale(self, reason: str) -> BriefingPost:
        """An older composition re-labelled: today's data could not be loaded."""
        label = (f"⚠️ STALE: today's data could not be loaded ({reason[:200]}); this is the "
                 f"briefing with data as of {self.asof:%a %d %b %Y}.")
        return dataclasses.replace(self, stale=True, description=f"{label}\n\n{self.description}")

    @property
    def footer_text(self) -> str:
        ref = f"ref {self.marker}" if self.marker else ""
        return " · ".join(p for p in (self.footer, ref) if p)

    @property
    def body(self) -> str:
        """The embed description: the early-close notice (if any) in bold, then the summary."""
        return self.description if not self.notice else f"**{self.notice}**\n\n{self.description}"

    # -- Discord --------------------------------------------------------------------------
    def embeds(self) -> list[discord.Embed]:
        """The main embed (with the first chart) plus one image-only embed per further chart."""
        main = discord.Embed(title=self.title[:MAX_TITLE], description=self.body[:MAX_DESCRIPTION],
                             colour=self.color)
        for f in self.fields[:MAX_FIELDS]:
            main.add_field(name=f.name[:256], value=f.value[:MAX_FIELD] or "—", inline=f.inline)
        if self.footer_text:  # the marker is kept whole at the end
            ref = f" · ref {self.marker}" if self.marker and self.footer else ""
            main.set_footer(text=(self.footer[:2048 - len(ref)] + ref) if ref
                            else self.footer_text[:2048])
        images = self.images[:MAX_IMAGES]
        if images:
            main.set_image(url=f"attachment://{images[0].filename}")
        out = [fit(main)]  # Discord's limits (6,000 characters per message's embeds)
        for img in images[1:]:
            extra = discord.Embed(colour=self.color)
            extra.set_image(url=f"attachment://{img.filename}")
            out.append(extra)
        return out

    def files(self) -> list[discord.File]:
        """New ``discord.File`` objects (one per image) for one message."""
        return [discord.File(io.BytesIO(img.data), filename=img.filename)
                for img in self.images[:MAX_IMAGES]]

    # -- Markdown -------------------------------------------------------------------------
    def markdown(self) -> str:
        """The post as Markdown (for ``briefing.md`` and people without Discord)."""
        lines = [f"# {self.title}", ""]
        if self.notice:
            lines += [f"> **{self.notice}**", ""]
        lines += [self.description, ""]
        for f in self.fields:
            lines += [f"## {f.name}", "", f.value, ""]
        for img in self.images:
            lines += [f"![{img.title or img.filename}]({img.filename})", ""]
        if self.footer:
            lines += [f"_{self.footer}_", ""]
        return "\n".join(lines).rstrip() + "\n"


# -- Briefing → post ------------------------------------------------------------------------
_SCORE_WINDOWS = ("1d", "1m", "ytd")
_SHORT = {"^RUT": "RUT", "^GSPC": "SPX"}
_LEAD_EMOJI = {"small": "🟠", "large": "🔵", "mixed": "⚪"}


def early_close_notice(session: date) -> str | None:
    """``"Early close today: NYSE closes at 1:00 p.m. ET"`` on early-close sessions."""
    if not calendar.is_early_close(session):
        return None
    close = calendar.session_close(session).astimezone(ZoneInfo("America/New_York"))
    hour = close.hour % 12 or 12
    return (f"⏰ Early close today ({session:%a %d %b}): NYSE closes at "
            f"{hour}:{close.minute:02d} p.m. ET")


def scoreboard_block(briefing: Briefing) -> str:
    """A narrow monospace table (fits a phone): RUT, SPX and RUT/SPX over 1D, 1M, YTD."""
    snap = briefing.leadership
    head = f"{'':<8}{'Level':>9}" + "".join(f"{window_header(w):>8}" for w in _SCORE_WINDOWS)
    lines = [head]
    for row in snap.scoreboard:
        if row.symbol not in _SHORT:
            continue
        lines.append(f"{_SHORT[row.symbol]:<8}{fmt_level(row.level):>9}" + "".join(
            f"{fmt_pct(row.returns.get(w, math.nan), 1):>8}" for w in _SCORE_WINDOWS))
    rel = snap.relative.ratio_changes
    lines.append(f"{'RUT/SPX':<8}{'':>9}" + "".join(
        f"{fmt_pct(rel.get(w, math.nan), 1):>8}" for w in _SCORE_WINDOWS))
    return "```\n" + "\n".join(lines) + "\n```"


def trend_text(briefing: Briefing) -> str:
    """The verdict's call and its three horizons, one a line (:func:`bot.ui.text.verdict_lines`):
    the same call as the headline and the chart titles."""
    rel = briefing.leadership.relative
    verdict = briefing.verdict or verdict_from_relative(rel)
    return "\n".join([f"**{verdict.title}**", *verdict_lines(verdict, rel)])


def build_post(briefing: Briefing, *, session: date, options: BriefingOptions,
               images: Sequence[PostImage] = (), source: str = "yahoo") -> BriefingPost:
    """The post for ``session`` (the morning it is read) from the briefing as of its ``asof``.

    Sections follow ``options.sections``; charts only when ``options.charts``; the early close of
    ``session`` (if any) is the first line; stale data is flagged in the description. A post
    from the bundled demo snapshot (``source`` "demo data to <date>") says so in its title and
    its first line.
    """
    emoji = _LEAD_EMOJI.get(briefing.leader, "⚪")
    description = f"{emoji} **{briefing.headline}**"
    if briefing.stale:
        why = briefing.stale_reason or "the last refresh failed"
        description = f"⚠️ Data may be out of date: {why}\n\n{description}"
    if briefing.data_age:
        description = f"⚠️ {briefing.data_age}\n\n{description}"
    demo = is_demo(source)
    if demo:
        description = f"🧪 {banner(source)}\n{description}"
    wanted = set(options.sections)
    fields: list[PostField] = []
    if briefing.premarket is not None:  # the coming session's first sign, shown first
        head, _, rest = briefing.premarket.line.partition(": ")
        fields.append(PostField(head, rest))
    if "leadership" in wanted:
        fields.append(PostField("Scoreboard (price returns)", scoreboard_block(briefing)))
        fields.append(PostField("Leadership by horizon", trend_text(briefing)))
    if "records" in wanted:
        fields.append(PostField("Records", briefing.records_line))
    if "history" in wanted and briefing.history_line:
        fields.append(PostField("What history says", briefing.history_line))
    if "drivers" in wanted and briefing.drivers_line:
        fields.append(PostField("Drivers", briefing.drivers_line))
    extra = ""
    if briefing.data_asof is not None and briefing.data_asof < briefing.asof:
        extra = f"latest held {briefing.data_asof.isoformat()}"
    if source == "csv" and "drivers" in wanted and briefing.drivers_line:
        extra = " · ".join(p for p in (extra, VINTAGE_FOOTER) if p)  # replays: FRED vintage
    return BriefingPost(
        session=session, asof=briefing.asof,
        title=f"Small vs large caps · {briefing_title(briefing.asof, session)}"
              + (f" · {source}" if demo else ""),
        description=description, color=leader_colour(briefing.leader).value,
        fields=tuple(fields), footer=footer_text(briefing.asof, source, extra),
        images=tuple(images) if options.charts else (),
        early_close=early_close_notice(session) is not None, stale=briefing.stale,
        notice=early_close_notice(session),
    )
