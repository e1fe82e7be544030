"""The morning post as data: one embed (title, summary, fields, colour) plus chart PNGs.

:class:`BriefingPost` is composed once and sent many times, so it holds only immutable values
(bytes, strings); :meth:`BriefingPost.files` builds fresh ``discord.File`` objects for every
message (a ``discord.File`` cannot be re-sent). Charts are attached as ``attachment://`` images:
the first inside the main embed, the others in extra embeds sharing the main embed's ``url``,
which Discord shows as one gallery card. The same post renders to Markdown
(:meth:`BriefingPost.markdown`) and to an HTML page (``bot/ui/html.py``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

import discord

#: Discord limits we stay under (embed title 256, description 4096, field value 1024, 25 fields).
MAX_TITLE, MAX_DESCRIPTION, MAX_FIELD, MAX_FIELDS, MAX_IMAGES = 256, 4096, 1024, 25, 4
GALLERY_URL = "https://github.com/capbrief/capbrief#briefing"
SMALL_CAP_COLOR = 0x3BA55D  # green: small caps lead
LARGE_CAP_COLOR = 0x5865F2  # blurple: large caps lead
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
    extra: dict[str, str] = field(default_factory=dict)

    # -- Discord --------------------------------------------------------------------------
    def embeds(self) -> list[discord.Embed]:
        """The main embed (with the first chart) plus one embed per further chart (gallery)."""
        body = self.description if not self.notice else f"**{self.notice}**\n\n{self.description}"
        main = discord.Embed(title=self.title[:MAX_TITLE], description=body[:MAX_DESCRIPTION],
                             colour=self.color, url=GALLERY_URL if self.images else None)
        for f in self.fields[:MAX_FIELDS]:
            main.add_field(name=f.name[:256], value=f.value[:MAX_FIELD] or "—", inline=f.inline)
        if self.footer:
            main.set_footer(text=self.footer[:2048])
        images = self.images[:MAX_IMAGES]
        if images:
            main.set_image(url=f"attachment://{images[0].filename}")
        out = [main]
        for img in images[1:]:
            extra = discord.Embed(url=GALLERY_URL, colour=self.color)
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
