"""A self-contained HTML page that looks like the Discord post (for previews and non-Discord users).

Discord's dark theme: message on #313338, the embed card on #2b2d31 with the leader colour as its
4-px left border, bold title, description, fields (inline ones side by side), the charts as
images, then the footer. Only the Markdown Discord uses in our posts is converted: ``**bold**``,
``_italic_``, `` `code` `` and fenced code blocks. Images are referenced by file name, so the
page sits next to its PNGs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Protocol


class _Field(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def inline(self) -> bool: ...


class _Image(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def title(self) -> str: ...


class PostView(Protocol):
    """What the page needs of a post (:class:`bot.briefing.post.BriefingPost` fits); a
    protocol, so ``ui`` does not import the briefing that is built on it."""

    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def color(self) -> int: ...
    @property
    def footer(self) -> str: ...
    @property
    def fields(self) -> Sequence[_Field]: ...
    @property
    def images(self) -> Sequence[_Image]: ...

_FENCE = re.compile(r"```(?:\w+)?\n?(.*?)```", re.S)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![\w*])_(.+?)_(?![\w*])", re.S)
_CODE = re.compile(r"`([^`]+)`")

CSS = """
body{margin:0;background:#313338;color:#dbdee1;font:16px/1.375 "gg sans","Noto Sans",
"Helvetica Neue",Helvetica,Arial,sans-serif}
.msg{display:flex;gap:16px;max-width:760px;margin:24px auto;padding:4px 16px}
.avatar{flex:none;width:40px;height:40px;border-radius:50%;background:#f0a030;color:#1e1f22;
font-weight:700;display:flex;align-items:center;justify-content:center}
.head{margin-bottom:4px}.name{color:#f2f3f5;font-weight:600}
.tag{background:#5865f2;color:#fff;font-size:10px;font-weight:600;border-radius:3px;
padding:1px 4px;margin-left:4px;vertical-align:2px}
.time{color:#949ba4;font-size:12px;margin-left:6px}
.embed{background:#2b2d31;border-left:4px solid var(--c);border-radius:4px;
padding:12px 16px 16px 12px;max-width:520px}
.title{color:#f2f3f5;font-weight:600;margin-bottom:8px}
.desc{font-size:14px;margin-bottom:8px}.fields{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}
.field{grid-column:1/-1;font-size:14px}.field.inline{grid-column:auto}
.fname{color:#f2f3f5;font-weight:600;margin-bottom:2px}
pre{background:#1e1f22;border:1px solid #1e1f22;border-radius:4px;padding:7px;margin:4px 0;
font:13px/1.25 Consolas,"Andale Mono","Ubuntu Mono",monospace;color:#dbdee1;overflow-x:auto}
code{background:#1e1f22;border-radius:3px;padding:0 3px;font-size:85%}
.images{margin-top:16px;display:grid;gap:4px}.images img{width:100%;border-radius:4px;display:block}
.footer{margin-top:8px;color:#b5bac1;font-size:12px}
"""


def discord_markdown(text: str) -> str:
    """The subset of Discord Markdown our posts use → HTML (everything else escaped)."""
    blocks: list[str] = []

    def keep(match: re.Match[str]) -> str:
        blocks.append(f"<pre>{html.escape(match.group(1).rstrip())}</pre>")
        return f"\x00{len(blocks) - 1}\x00"

    out = html.escape(_FENCE.sub(keep, text), quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    out = _ITALIC.sub(r"<em>\1</em>", out)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = out.replace("\n", "<br>\n")
    for i, block in enumerate(blocks):
        out = out.replace(f"\x00{i}\x00", block)
    return re.sub(r"(<br>\n)*(<pre>.*?</pre>)(<br>\n)?", r"\2", out, flags=re.S)


def render_post_html(post: PostView, *, bot_name: str = "capbrief",
                     posted_at: str = "Today at 8:30 AM") -> str:
    """The whole page (UTF-8, no external assets except the PNG files named in ``post``)."""
    colour = f"#{post.color:06x}"
    fields = "\n".join(
        f'<div class="field{" inline" if f.inline else ""}"><div class="fname">'
        f'{discord_markdown(f.name)}</div><div>{discord_markdown(f.value)}</div></div>'
        for f in post.fields)
    images = "\n".join(
        f'<img src="{html.escape(img.filename)}" alt="{html.escape(img.title or img.filename)}">'
        for img in post.images)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(post.title)}</title><style>{CSS}</style></head>
<body><div class="msg"><div class="avatar">cb</div><div>
<div class="head"><span class="name">{html.escape(bot_name)}</span><span class="tag">APP</span>
<span class="time">{html.escape(posted_at)}</span></div>
<div class="embed" style="--c:{colour}">
<div class="title">{html.escape(post.title)}</div>
<div class="desc">{discord_markdown(post.body)}</div>
<div class="fields">{fields}</div>
{f'<div class="images">{images}</div>' if images else ""}
<div class="footer">{html.escape(post.footer)}</div>
</div></div></div></body></html>
"""
