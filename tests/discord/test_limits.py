"""Discord's message limits in one place (``bot/ui/limits.py``): the last gate, pagination,
packing. Cross-checked against Discord's API description where it is present."""

from __future__ import annotations

import discord
import pytest

from bot.ui import limits
from tests.fakes.discord_spec import embed_chars, load_spec


def field_texts(n: int, size: int) -> list[tuple[str, str]]:
    return [(f"#channel-{i}", f"{i:03d} " + "x" * (size - 4)) for i in range(n)]


def test_embed_length_counts_what_discord_counts() -> None:
    embed = discord.Embed(title="ab", description="c")
    embed.add_field(name="x", value="yy").set_footer(text="dd").set_author(name="q")
    assert limits.embed_length(embed) == embed_chars(embed.to_dict()) == 9


def test_a_message_within_the_limits_passes_unchanged() -> None:
    embed = discord.Embed(title="t", description="d" * 4000)
    content, embeds = limits.check_message("x" * 2000, [embed])
    assert content == "x" * 2000 and embeds == [embed]


@pytest.mark.parametrize(("content", "embeds", "needle"), [
    ("x" * 2001, [], "content: 2,001 characters"),
    (None, [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)],
     "6,001 characters together"),
    (None, [discord.Embed(title="t")] * 11, "11 embeds"),
    (None, [discord.Embed(title="t" * 257)], "title: 257 characters"),
    (None, [discord.Embed().add_field(name="n", value="v" * 1025)], "value: 1,025"),
    (None, [discord.Embed().add_field(name="n", value=" ")], "empty name or value"),
])
def test_over_the_limits_raises_when_strict_and_is_cut_down_otherwise(
        content: str | None, embeds: list[discord.Embed], needle: str,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(limits, "STRICT", True)
    with pytest.raises(limits.ReplyTooLarge, match=needle):
        limits.check_message(content, embeds)
    monkeypatch.setattr(limits, "STRICT", False)
    cut_content, cut_embeds = limits.check_message(content, embeds)
    assert "reply over Discord's limits" in caplog.text
    assert limits.problems(cut_content, cut_embeds) == []
    if content is not None:
        assert cut_content is not None and len(cut_content) == 2000 and cut_content[-1] == "…"


@pytest.mark.parametrize(("count", "size"), [(0, 0), (1, 50), (24, 250), (40, 270), (60, 1024),
                                             (200, 100)])
def test_paginate_keeps_every_field_once_within_the_limits(count: int, size: int) -> None:
    fields = field_texts(count, size) if count else []
    pages = limits.paginate(fields, title="Morning briefing settings", colour=0x5865F2,
                            footer=f"{count} subscribed channels")
    assert [(f.name, f.value) for p in pages for f in p.fields] == fields
    for page in pages:
        assert limits.problems(None, [page]) == [], page.title
    if len(pages) > 1:
        assert [p.title for p in pages][-1] == (
            f"Morning briefing settings (page {len(pages)} of {len(pages)})")
    else:
        assert pages[0].title == "Morning briefing settings"
    messages = limits.group(pages)
    assert [e for m in messages for e in m] == pages
    assert all(limits.problems(None, m) == [] for m in messages)


def test_forty_settings_fields_of_270_characters_need_two_pages() -> None:
    """The issue's case: one embed held ~22 subscriptions before passing 6,000 characters."""
    pages = limits.paginate(field_texts(40, 270), title="Morning briefing settings",
                            colour=0)
    assert len(pages) == 2 and len(limits.group(pages)) == 2


def test_group_packs_small_embeds_ten_to_a_message() -> None:
    embeds = [discord.Embed(title=f"e{i}") for i in range(23)]
    assert [len(m) for m in limits.group(embeds)] == [10, 10, 3]


def test_the_limits_agree_with_discords_api_description() -> None:
    spec = load_spec()
    if spec is None:
        pytest.skip("Discord's API description absent (../shared/discord-api-spec)")
    schemas = spec.document["components"]["schemas"]
    embed = schemas["RichEmbed"]["properties"]
    assert embed["title"]["maxLength"] == limits.TITLE
    assert embed["description"]["maxLength"] == limits.DESCRIPTION
    assert embed["fields"]["maxItems"] == limits.FIELDS
    field = schemas["RichEmbedField"]["properties"]
    assert (field["name"]["maxLength"], field["value"]["maxLength"]) == (
        limits.FIELD_NAME, limits.FIELD_VALUE)
    assert schemas["RichEmbedFooter"]["properties"]["text"]["maxLength"] == limits.FOOTER
    webhook = schemas["IncomingWebhookInteractionRequest"]["properties"]
    assert webhook["content"]["maxLength"] == limits.CONTENT
    assert webhook["embeds"]["maxItems"] == limits.EMBEDS


def test_cogs_reply_only_through_the_gated_helpers() -> None:
    """Replies leave through ``bot.tree``'s helpers, which call :func:`limits.check_message`;
    a cog calling discord.py's send methods itself would skip the gate."""
    import re
    from pathlib import Path

    direct = re.compile(r"\.(followup\.send|response\.send_message|edit_original_response)\(")
    cogs = Path(__file__).resolve().parents[2] / "cogs"
    offenders = [f"{p.name}:{i}" for p in sorted(cogs.glob("*.py"))
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if direct.search(line)]
    assert offenders == []
