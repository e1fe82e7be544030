"""Print what the fake Discord received for each command: a transcript for reviewers.

``python -m tests.e2e.transcript [--out DIR] [--data-dir DIR]`` runs the real bot against the
fake (CSV replay of the shared history, one render worker), invokes every command once (plus
two bad inputs), and prints each request: method, path, callback type, flags, the embed JSON,
and the files (name, size, PNG dimensions). PNGs are written to ``--out`` (default
``out/transcript``) so they can be looked at.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import market_data_dir
from tests.e2e.conftest import png_size, start_harness, stop_harness
from tests.fakes.discord_api import Recorded

COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("about", {}),
    ("status", {}),
    ("status", {"asof": "2025-09-18", "window": "6m"}),
    ("chart", {"symbols": "IWM SPY", "period": "1y", "kind": "rebased"}),
    ("history", {"study": "breakouts"}),
    ("history", {"study": "droughts"}),
    ("history", {"study": "cycles"}),
    ("history", {"study": "rates"}),
    ("history", {"study": "analogs", "asof": "2025-09-18"}),
    ("drivers", {}),
    ("chart", {"symbols": "../etc/passwd"}),
    ("chart", {"symbols": "ZZZZQ"}),
]


def describe(rec: Recorded, out: Path, stem: str) -> list[str]:
    path = re.sub(r"itok-[0-9a-f]+", "{token}", rec.path)
    lines = [f"  {rec.method} {path} -> {rec.status}"]
    body = rec.json if isinstance(rec.json, dict) else {}
    data = body.get("data", body) if "type" in body else body
    if "type" in body:
        lines.append(f"    callback type {body['type']}")
    if data.get("flags"):
        lines.append(f"    flags {data['flags']}" + (" (ephemeral)" if data["flags"] & 64 else ""))
    if data.get("content"):
        lines.append(f"    content: {data['content']!r}")
    for embed in data.get("embeds") or []:
        head = {k: v for k, v in embed.items() if k != "fields"}
        lines.append("    embed " + json.dumps(head, ensure_ascii=False))
        lines.extend("      field " + json.dumps(f, ensure_ascii=False)
                     for f in embed.get("fields") or [])
    for i, f in enumerate(rec.files):
        size = f"{png_size(f.data)[0]}x{png_size(f.data)[1]}" if f.data[:4] == b"\x89PNG" else "?"
        target = out / f"{stem}-{i}-{f.filename}"
        target.write_bytes(f.data)
        lines.append(f"    file {f.field}: {f.filename} {f.size:,} bytes, PNG {size} -> {target}")
    return lines


async def main(out: Path, data_dir: Path) -> None:
    h = await start_harness(data_dir, out)
    try:
        sync = h.fake.synced["global"]
        print(f"== command sync: PUT /applications/{{app}}/commands with {len(sync)} commands")
        for cmd in sync:
            opts = ", ".join(o["name"] + ("" if o.get("required") else "?")
                             for o in cmd.get("options") or [])
            print(f"  /{cmd['name']} ({opts}) — {cmd['description']}")
        for n, (name, options) in enumerate(COMMANDS):
            if name not in {c["name"] for c in sync}:
                continue
            shown = " ".join(f"{k}:{v}" for k, v in options.items())
            print(f"\n== /{name} {shown}")
            ix = await h.fake.interact(name, options, user_id=1_600_000_000_000_000_000 + n)
            callback = await ix.callback()
            if callback.json["type"] == 5:
                await h.fake.wait_for(lambda r, t=ix.token: t in r.path and "/webhooks/" in r.path
                                      and r.method == "POST", 60)
            for rec in ix.responses():
                print("\n".join(describe(rec, out, f"{n:02d}-{name}")))
    finally:
        await stop_harness(h)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.transcript")
    parser.add_argument("--out", type=Path, default=Path("out/transcript"))
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or market_data_dir()
    if data_dir is None:
        raise SystemExit("no market data: pass --data-dir or set CAPBRIEF_MARKET_DATA")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(out, data_dir))
