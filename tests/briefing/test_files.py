"""``python -m bot briefing --out DIR`` and the no-token preview: files a person can open."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from bot.briefing.files import write_post
from bot.briefing.post import BriefingPost, PostField, PostImage, early_close_notice
from bot.cli import main
from bot.market_data.demo import demo_label
from bot.ui.html import discord_markdown, render_post_html


def _post(**kw: object) -> BriefingPost:
    base: dict[str, object] = dict(
        session=date(2026, 11, 27), asof=date(2026, 11, 25), title="Small vs large caps",
        description="🟠 **Small caps lead** <script>", color=0xF0A030,
        fields=(PostField("Scoreboard", "```\nRUT  +1.0%\n```"), PostField("Records", "_x_")),
        footer="Data to close of 2026-11-25", images=(PostImage("a.png", b"png", "A"),),
        notice=early_close_notice(date(2026, 11, 27)))
    base.update(kw)
    return BriefingPost(**base)  # type: ignore[arg-type]


def test_early_close_notice_only_on_early_close_days() -> None:
    assert early_close_notice(date(2026, 11, 27)) == (
        "⏰ Early close today (Fri 27 Nov): NYSE closes at 1:00 p.m. ET")
    assert early_close_notice(date(2026, 11, 25)) is None


def test_post_embeds_files_and_markdown_note_the_early_close() -> None:
    post = _post(images=(PostImage("a.png", b"1"), PostImage("b.png", b"2")))
    embeds = post.embeds()
    assert embeds[0].description is not None
    assert embeds[0].description.startswith("**⏰ Early close today")
    assert embeds[0].image.url == "attachment://a.png"
    assert embeds[1].image.url == "attachment://b.png" and embeds[0].url is None
    files_a, files_b = post.files(), post.files()
    assert [f.filename for f in files_a] == ["a.png", "b.png"]
    assert files_a[0] is not files_b[0]  # a discord.File cannot be re-sent: fresh each time
    assert "> **⏰ Early close today" in post.markdown()


def test_html_looks_like_the_embed_and_escapes_text() -> None:
    page = render_post_html(_post())
    assert "border-left:4px solid var(--c)" in page and "--c:#f0a030" in page
    assert "<strong>Small caps lead</strong>" in page and "&lt;script&gt;" in page
    assert "<script>" not in page
    assert "<pre>RUT  +1.0%</pre>" in page and '<img src="a.png"' in page
    assert "Early close today" in page
    assert discord_markdown("a_b_c _it_") == "a_b_c <em>it</em>"


def test_write_post_writes_every_file(tmp_path: Path) -> None:
    paths = write_post(_post(), tmp_path / "out")
    assert sorted(p.name for p in paths) == ["a.png", "briefing.html", "briefing.md"]
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_cli_out_writes_the_post_for_the_next_morning(market_dir: Path, tmp_path: Path,
                                                      capsys: object) -> None:
    out = tmp_path / "out"
    assert main(["briefing", "--asof", "2025-09-18", "--data-dir", str(market_dir),
                 "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["briefing.html", "briefing.md", "leadership.png", "records.png"]
    md = (out / "briefing.md").read_text()
    # the same convention as `bot briefing --asof 2025-09-18` prints (test_dates_real.py)
    demo = demo_label(market_dir)  # the bundled demo snapshot says so in the heading
    assert md.startswith("# Small vs large caps · Morning briefing for Fri 19 Sep 2025 · data "
                         "to the close of Thu 18 Sep 2025" + (f" · {demo}" if demo else "") + "\n")
    assert "first record in 1,410 days" in md and "Data to close of 2025-09-18" in md
    html = (out / "briefing.html").read_text()
    assert re.search(r'<img src="leadership.png"', html) and "What history says" in html
    for png in ("leadership.png", "records.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_out_on_the_day_before_an_early_close(market_dir: Path, tmp_path: Path) -> None:
    # 2025-11-26 (Wed) close → read on Fri 2025-11-28, an early close (Thanksgiving Friday).
    out = tmp_path / "out"
    assert main(["briefing", "--asof", "2025-11-26", "--data-dir", str(market_dir),
                 "--out", str(out)]) == 0
    md = (out / "briefing.md").read_text()
    assert "Morning briefing for Fri 28 Nov 2025 · data to the close of Wed 26 Nov 2025" in md
    assert "Early close today (Fri 28 Nov): NYSE closes at 1:00 p.m. ET" in md


async def test_scheduled_post_on_2026_11_27_notes_the_early_close(market_dir: Path,
                                                                   tmp_path: Path) -> None:
    from datetime import UTC, datetime, time, timedelta

    from bot.briefing.compose import BriefingComposer
    from bot.briefing.fanout import BriefingRuntime
    from bot.briefing.store import DeliveryRepository, SubscriptionRepository
    from bot.market_data.service import build_market_data
    from bot.settings import Settings
    from bot.storage.db import create_engine, migrate
    from tests.briefing.conftest import NY, add_sub

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    subs = SubscriptionRepository(engine)
    add_sub(subs, 9, charts=False)
    settings = Settings()
    snapshot = await build_market_data(settings, market_dir).snapshot()

    async def snap() -> object:
        return snapshot

    posts: list[BriefingPost] = []

    class Sender:
        async def send(self, channel_id: int, post: BriefingPost, *,
                       nonce: str | None = None) -> int:
            posts.append(post)
            return 1

        async def find(self, channel_id: int, marker: str) -> int | None:
            return None

    composer = BriefingComposer(settings, snap)  # type: ignore[arg-type]
    runtime = BriefingRuntime(subs, DeliveryRepository(engine), composer, Sender(),
                              grace=timedelta(minutes=60),
                              clock=lambda: datetime(2026, 11, 27, 13, 30, tzinfo=UTC))
    await runtime.run_slot(time(8, 30), NY)
    [post] = posts
    assert post.session == date(2026, 11, 27) and post.early_close
    body = post.embeds()[0].description or ""
    assert body.startswith("**⏰ Early close today (Fri 27 Nov): NYSE closes at 1:00 p.m. ET**")
    # The data ends before the session: the post says which close it reports.
    assert post.asof <= date(2026, 11, 25) and "Data to close of" in post.footer
    engine.dispose()


def test_run_without_token_writes_the_briefing_preview(market_dir: Path, tmp_path: Path,
                                                       capsys: object) -> None:
    out = tmp_path / "out"
    assert main(["run", "--data-dir", str(market_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"Preview written to {out / 'briefing.html'}" in printed
    names = {p.name for p in out.iterdir()}
    assert {"briefing.html", "briefing.md", "leadership.png", "summary.md"} <= names
    md = (out / "briefing.md").read_text()
    assert "Morning briefing for " in md
    # the preview is built from the newest close held; when that is old, a line says how old
    from bot.data_age import data_age_line

    last = pd.read_csv(market_dir / "GSPC.csv", usecols=[0]).iloc[-1, 0]
    age = data_age_line(date.fromisoformat(str(last)[:10]))
    assert (age is not None) == ("Old data: the latest close held is " in md)


def test_oversized_post_is_cut_to_discord_limits() -> None:
    long = "x" * 1500
    post = _post(description=long * 4, fields=tuple(PostField(f"f{i}", long) for i in range(30)))
    embeds = post.embeds()
    assert sum(len(e) for e in embeds) <= 6000 and len(embeds[0].fields) <= 25
