"""Embed design rules and Discord's size limits (no Discord needed)."""

from __future__ import annotations

from datetime import date

import discord

from bot.ui.embeds import (
    LARGE_COLOUR,
    NEUTRAL_COLOUR,
    SMALL_COLOUR,
    base_embed,
    fit,
    leader_colour,
)


def test_colours_follow_the_chart_palette() -> None:
    from analytics.charts.theme import DARK

    assert leader_colour("small") == SMALL_COLOUR == discord.Colour(int(DARK.small_caps[1:], 16))
    assert leader_colour("large") == LARGE_COLOUR == discord.Colour(int(DARK.large_caps[1:], 16))
    assert leader_colour("even") == leader_colour(None) == NEUTRAL_COLOUR


def test_footer_and_stale_warning() -> None:
    embed = base_embed("t", leader="small", asof=date(2025, 9, 18), source="yahoo", stale=True,
                       stale_reason="Yahoo Finance timed out", description="body")
    assert embed.description is not None
    assert embed.description.startswith("⚠️ **Stale data**")
    assert "Yahoo Finance timed out" in embed.description
    assert embed.footer.text == ("Data to close of 2025-09-18 · Source: Yahoo Finance · "
                                 "Not investment advice.")
    fresh = base_embed("t", leader=None, asof=None, source="csv")
    assert fresh.description is None and "Data date unknown" in (fresh.footer.text or "")


def test_fit_enforces_every_limit() -> None:
    embed = discord.Embed(title="T" * 300, description="D" * 5000)
    for i in range(40):
        embed.add_field(name=f"{i}" + "N" * 300, value="V" * 2000)
    embed.set_footer(text="F" * 3000)
    fit(embed)
    assert len(embed.title or "") == 256 and (embed.title or "").endswith("…")
    assert len(embed.fields) <= 25
    assert all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields)
    assert len(embed.footer.text or "") <= 2048
    assert len(embed) <= 6000
    assert len(embed.fields) >= 1  # trimmed from the end, not emptied


def test_fit_leaves_a_small_embed_alone() -> None:
    embed = discord.Embed(title="ok", description="fine").add_field(name="a", value="b")
    before = embed.to_dict()
    assert fit(embed).to_dict() == before
