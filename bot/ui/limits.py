"""Discord's message limits, checked in one place before a reply is sent.

A message: content ≤ 2,000 characters, ≤ 10 embeds, and the text of all its embeds together
≤ 6,000 characters. An embed: title ≤ 256, description ≤ 4,096, ≤ 25 fields, field name ≤ 256,
field value ≤ 1,024, footer ≤ 2,048, author name ≤ 256. Discord answers anything larger with
400 Invalid Form Body, and the user then gets no reply at all.

- :func:`fit_embed` makes one embed fit, on purpose (builders call it: long prose is shortened
  before any field is dropped).
- :func:`check_message` is the last gate before every send (``bot.tree``'s reply helpers). A
  message that still breaks a limit there is a bug in its builder: with :data:`STRICT` (the test
  suite sets it) it raises :class:`ReplyTooLarge`; in production it logs a warning and cuts the
  message down (content cut with "…", surplus embeds dropped, the last embeds' fields dropped),
  so the user still gets an answer.
- :func:`paginate` spreads many fields over several embeds, each within the limits, and
  :func:`group` packs embeds into as few messages as the limits allow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import discord

log = logging.getLogger(__name__)

CONTENT, EMBEDS, TOTAL = 2000, 10, 6000
TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, AUTHOR = (
    256, 4096, 25, 256, 1024, 2048, 256)
#: Raise instead of truncating at the last gate (set by the tests; see the module doc).
STRICT = False


class ReplyTooLarge(AssertionError):
    """A message reached the last gate still over Discord's limits (a builder's bug)."""


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def _filled(text: str | None) -> str:
    """``text``, or "—" when it is empty or blank (Discord refuses an empty field)."""
    return text if text and text.strip() else "—"


def embed_length(embed: discord.Embed) -> int:
    """Characters Discord counts toward the 6,000: title, description, field names and values,
    footer text and author name."""
    return len(embed)


def embed_problems(embed: discord.Embed, where: str = "embed") -> list[str]:
    """Every per-embed limit ``embed`` breaks (empty: none)."""
    out = []
    for name, value, limit in (("title", embed.title, TITLE),
                               ("description", embed.description, DESCRIPTION),
                               ("footer", embed.footer.text, FOOTER),
                               ("author", embed.author.name, AUTHOR)):
        if value and len(value) > limit:
            out.append(f"{where} {name}: {len(value):,} characters (limit {limit:,})")
    if len(embed.fields) > FIELDS:
        out.append(f"{where}: {len(embed.fields)} fields (limit {FIELDS})")
    for i, f in enumerate(embed.fields):
        if len(f.name or "") > FIELD_NAME:
            out.append(f"{where} field {i} name: {len(f.name or ''):,} characters")
        if len(f.value or "") > FIELD_VALUE:
            out.append(f"{where} field {i} value: {len(f.value or ''):,} characters "
                       f"(limit {FIELD_VALUE:,})")
        if not (f.name or "").strip() or not (f.value or "").strip():
            out.append(f"{where} field {i}: empty name or value")
    return out


def problems(content: str | None, embeds: Sequence[discord.Embed]) -> list[str]:
    """Every limit one message with ``content`` and ``embeds`` breaks (empty: it fits)."""
    out = []
    if content is not None and len(content) > CONTENT:
        out.append(f"content: {len(content):,} characters (limit {CONTENT:,})")
    if len(embeds) > EMBEDS:
        out.append(f"{len(embeds)} embeds (limit {EMBEDS})")
    total = sum(embed_length(e) for e in embeds)
    if total > TOTAL:
        out.append(f"embeds: {total:,} characters together (limit {TOTAL:,})")
    for i, embed in enumerate(embeds):
        out += embed_problems(embed, f"embed {i}")
    return out


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Truncate ``embed`` in place to the per-embed limits and 6,000 characters; return it.

    Prose goes first: the description is shortened (to no less than 1,024 characters) before
    any field is dropped; fields are dropped from the end."""
    if embed.title:
        embed.title = cut(embed.title, TITLE)
    if embed.description:
        embed.description = cut(embed.description, DESCRIPTION)
    fields = [(cut(_filled(f.name), FIELD_NAME), cut(_filled(f.value), FIELD_VALUE),
               bool(f.inline)) for f in embed.fields[:FIELDS]]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    if embed.footer.text:
        embed.set_footer(text=cut(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=cut(embed.author.name, AUTHOR), url=embed.author.url,
                         icon_url=embed.author.icon_url)
    excess = len(embed) - TOTAL
    if excess > 0 and embed.description and len(embed.description) > FIELD_VALUE:
        embed.description = cut(embed.description,
                                max(FIELD_VALUE, len(embed.description) - excess))
    while len(embed) > TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > TOTAL and embed.description:
        embed.description = cut(embed.description,
                                max(1, len(embed.description) - (len(embed) - TOTAL)))
    return embed


def check_message(content: str | None = None,
                  embeds: Sequence[discord.Embed] = ()) -> tuple[str | None, list[discord.Embed]]:
    """The last gate before a send: ``(content, embeds)`` unchanged when within the limits;
    else :class:`ReplyTooLarge` under :data:`STRICT`, or a logged warning and a cut-down copy."""
    found = problems(content, embeds)
    if not found:
        return content, list(embeds)
    if STRICT:
        raise ReplyTooLarge("reply over Discord's limits: " + "; ".join(found))
    log.warning("reply over Discord's limits, cut down: %s", "; ".join(found))
    kept = [fit_embed(e.copy()) for e in embeds[:EMBEDS]]
    while sum(len(e) for e in kept) > TOTAL:
        last = kept[-1]
        if last.fields:
            last.remove_field(len(last.fields) - 1)
        elif len(kept) > 1:
            kept.pop()
        else:
            over = len(last) - TOTAL
            last.description = cut(last.description or "", max(1, len(last.description or "")
                                                                - over))
            break
    return (cut(content, CONTENT) if content is not None else None), kept


def paginate(fields: Sequence[tuple[str, str]], *, title: str, colour: int | discord.Colour,
             footer: str = "", budget: int = TOTAL) -> list[discord.Embed]:
    """``fields`` (name, value) over as many embeds as needed, each with at most 25 fields and
    ``budget`` characters (title and footer included); titles get "(page i of n)" when there is
    more than one. A field longer than the limits is cut. No fields: one embed, no fields."""
    page_title = f"{title} (page 99 of 99)"
    room = budget - len(page_title) - len(footer) - len(" · page 99 of 99")
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0
    for name, value in fields:
        name, value = cut(_filled(name), FIELD_NAME), cut(_filled(value), FIELD_VALUE)
        size = len(name) + len(value)
        if pages[-1] and (len(pages[-1]) == FIELDS or used + size > room):
            pages.append([])
            used = 0
        pages[-1].append((name, value))
        used += size
    out = []
    for i, page in enumerate(pages, 1):
        many = len(pages) > 1
        embed = discord.Embed(title=f"{title} (page {i} of {len(pages)})" if many else title,
                              colour=colour)
        for name, value in page:
            embed.add_field(name=name, value=value, inline=False)
        if footer:
            embed.set_footer(text=footer)
        out.append(embed)
    return out


def group(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """``embeds`` in order, packed into as few messages as fit (≤ 10 embeds, ≤ 6,000 each)."""
    messages: list[list[discord.Embed]] = []
    used = 0
    for embed in embeds:
        size = len(embed)
        if not messages or len(messages[-1]) == EMBEDS or used + size > TOTAL:
            messages.append([])
            used = 0
        messages[-1].append(embed)
        used += size
    return messages
