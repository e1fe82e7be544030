"""The bundled demo snapshot: real closes, shipped inside the package, for a first run anywhere.

``bot/market_data/demo_data/`` holds one ``SYMBOL.csv.xz`` per symbol of the default universe
(plus ``RUT_since1979.csv.xz``, the ``[data.extend]`` backfill of ^RUT to 1979) and
``fred/SERIES.csv.xz`` for the FRED series the drivers read, with ``MANIFEST.json`` (end date,
rows and SHA-256 of every file) and ``PROVENANCE.md``. Each file is the shared history's file
cut to ``date,close,adj_close`` (fred: ``date,value``), every value copied as text, so closes are
exact (2442.739990 stays 2442.739990).

:func:`materialize` unpacks it once into a plain CSV directory (the layout of
``../shared/data/market``, with a ``DEMO.json`` marker) that the CSV replay reads as it is:
``[data.extend]`` and ``DATA_DIR/fred`` work unchanged. :func:`demo_label` recognises such a
directory; its snapshots are labelled ``"demo data to <date>"`` instead of ``"csv"``.

Rebuild from the shared history (deterministic: the same input gives the same bytes)::

    python -m bot.market_data.demo --rebuild ../shared/data/market
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import lzma
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from bot.market_data.fred import SERIES

MARKER = "DEMO.json"
MANIFEST = "MANIFEST.json"
PROVENANCE = "PROVENANCE.md"
LABEL_PREFIX = "demo data to "
REFERENCE = "GSPC"  # the snapshot's as-of session is the last ^GSPC session (reference_asof)
#: Files of the shared history that the demo keeps: the default universe, the ^RUT backfill.
SYMBOL_FILES: tuple[str, ...] = (
    "RUT", "GSPC", "IWM", "SPY", "TNX", "IRX", "VIX", "HYG", "LQD", "UUP",
    "XLF", "XLI", "XLK", "XLV", "XLY", "XLP", "XLU", "XLE", "XLB", "XLRE", "XLC",
    "KRE", "IWN", "IWO", "IJR", "MDY", "QQQ", "RUT_since1979",
)
#: FRED series: every series capbrief knows (:data:`bot.market_data.fred.SERIES`: the economy,
#: rates, credit and sentiment readings, and RU2000PR, the source of the ^RUT backfill).
FRED_SERIES: tuple[str, ...] = tuple(SERIES)
BAR_FIELDS = ("date", "close", "adj_close")
FRED_FIELDS = ("date", "value")
MAX_BYTES = 2_000_000


class DemoError(RuntimeError):
    """The bundled snapshot is missing or does not match its manifest."""


def package_dir() -> Path:
    """Where the compressed snapshot lives inside the installed package."""
    return Path(str(resources.files("bot.market_data") / "demo_data"))


def manifest(root: Path | None = None) -> dict[str, Any]:
    """The bundled ``MANIFEST.json`` (DemoError when the package has no snapshot)."""
    path = (root or package_dir()) / MANIFEST
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise DemoError(f"the bundled demo snapshot is missing or unreadable ({path})") from exc


def label(end: date | str) -> str:
    """``"demo data to 2026-08-20"``."""
    return f"{LABEL_PREFIX}{end if isinstance(end, str) else end.isoformat()}"


def is_demo(source: str) -> bool:
    """True for a snapshot source made by :func:`label`."""
    return source.startswith(LABEL_PREFIX)


def banner(source: str) -> str:
    """The first line of any text from demo data (``""`` for other sources)."""
    return f"{source[:1].upper()}{source[1:]}: the bundled snapshot, not live prices.\n" \
        if is_demo(source) else ""


def demo_label(directory: Path | None) -> str | None:
    """The label of a materialized demo directory (it holds :data:`MARKER`), else None."""
    if directory is None:
        return None
    marker = Path(directory) / MARKER
    if not marker.is_file():
        return None
    try:
        return label(str(json.loads(marker.read_text(encoding="utf-8"))["end"]))
    except (OSError, ValueError, KeyError):
        return None


# -- unpacking ---------------------------------------------------------------------------------
def default_target(meta: dict[str, Any]) -> Path:
    """A per-user temp directory named after the snapshot's digest (reused across runs)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or str(os.getuid())
    return Path(tempfile.gettempdir()) / f"capbrief-demo-{user}-{meta['digest'][:12]}"


def materialize(target: Path | None = None) -> Path:
    """Unpack the bundled snapshot into ``target`` (default :func:`default_target`) and return it.

    Idempotent and safe under concurrent callers: the files are written to a sibling temporary
    directory that is renamed into place; an existing complete copy (its marker present) is
    reused as it is.
    """
    src = package_dir()
    meta = manifest(src)
    dest = Path(target) if target is not None else default_target(meta)
    if (dest / MARKER).is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        for name, info in meta["files"].items():
            data = lzma.decompress((src / f"{name}.xz").read_bytes())
            if hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise DemoError(f"the bundled demo file {name} does not match its manifest")
            out = work / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        shutil.copyfile(src / PROVENANCE, work / PROVENANCE)
        (work / MARKER).write_text(json.dumps({"end": meta["end"], "digest": meta["digest"]}),
                                   encoding="utf-8")
        try:
            os.replace(work, dest)
        except OSError:  # another process won the race (dest now exists and is complete)
            if not (dest / MARKER).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


# -- building (from ../shared/data/market) -------------------------------------------------------
def _cut(path: Path, fields: Sequence[str]) -> tuple[bytes, int, str, str]:
    """``path`` reduced to ``fields`` (values copied as text, rows with no value dropped)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    kept = [r for r in rows if any(r.get(f, "") for f in fields[1:])]
    for row in kept:
        writer.writerow([row.get(f, "") for f in fields])
    if not kept:
        raise DemoError(f"{path} has no rows with {', '.join(fields[1:])}")
    return buf.getvalue().encode("utf-8"), len(kept), kept[0]["date"], kept[-1]["date"]


def build(source: Path, dest: Path | None = None) -> dict[str, Any]:
    """Derive the snapshot from the shared history at ``source`` into ``dest`` (the package)."""
    source, dest = Path(source), Path(dest) if dest is not None else package_dir()
    wanted: list[tuple[str, tuple[str, ...]]] = [(f"{s}.csv", BAR_FIELDS) for s in SYMBOL_FILES]
    wanted += [(f"fred/{s}.csv", FRED_FIELDS) for s in FRED_SERIES]
    missing = [name for name, _ in wanted if not (source / name).is_file()]
    if missing:
        raise DemoError(f"{source} lacks {', '.join(missing)}")
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "fred").mkdir(parents=True)
    files: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name, fields in wanted:
        data, rows, first, last = _cut(source / name, fields)
        (dest / f"{name}.xz").write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
        sha = hashlib.sha256(data).hexdigest()
        digest.update(f"{name}:{sha}\n".encode())
        files[name] = {"rows": rows, "first": first, "last": last, "sha256": sha}
    end = files[f"{REFERENCE}.csv"]["last"]
    meta = {"format": 1, "end": end, "label": label(end), "digest": digest.hexdigest(),
            "columns": {"bars": list(BAR_FIELDS), "fred": list(FRED_FIELDS)}, "files": files}
    (dest / MANIFEST).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")
    (dest / PROVENANCE).write_text(_provenance(source, meta), encoding="utf-8")
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    if size > MAX_BYTES:
        raise DemoError(f"the demo snapshot is {size:,} bytes, over the {MAX_BYTES:,} limit")
    return meta


def _provenance(source: Path, meta: dict[str, Any]) -> str:
    rows = "\n".join(f"| {name} | {i['rows']:,} | {i['first']} .. {i['last']} |"
                     for name, i in meta["files"].items())
    upstream = source / PROVENANCE
    tail = upstream.read_text(encoding="utf-8") if upstream.is_file() else "(not found)\n"
    return f"""# Demo snapshot: provenance

This directory is the bundled demo snapshot of capbrief ({meta['label']}). It is what
`make run` / `python -m bot run` falls back to when Yahoo Finance cannot be reached, and what the
real-history tests read where `../shared/data/market` is absent.

It is **derived, not new data**: `python -m bot.market_data.demo --rebuild ../shared/data/market`
cuts each file of the shared history to `date,close,adj_close` (FRED: `date,value`), copying every
value as text (closes are exact), drops rows with no value, and compresses it with xz. Open, high,
low and volume are left out (no chart or study reads them). `MANIFEST.json` gives each file's rows,
range and the SHA-256 of its uncompressed text; unpacking checks it.

Snapshot end (last ^GSPC session): {meta['end']}. Nothing after that date is in it.

| file | rows | range |
|---|--:|---|
{rows}

## Upstream provenance (the shared history's PROVENANCE.md, verbatim)

{tail}"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.market_data.demo",
                                     description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--rebuild", type=Path, metavar="SHARED_MARKET_DIR",
                       help="derive the bundled snapshot from this directory")
    group.add_argument("--materialize", type=Path, metavar="DIR",
                       help="unpack the bundled snapshot into DIR (a CSV replay directory)")
    args = parser.parse_args(argv)
    try:
        if args.rebuild is not None:
            meta = build(args.rebuild)
            size = sum(p.stat().st_size for p in package_dir().rglob("*") if p.is_file())
            print(f"{meta['label']}: {len(meta['files'])} files, {size:,} bytes "
                  f"in {package_dir()}")
        else:
            print(materialize(args.materialize))
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
