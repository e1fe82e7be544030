"""Run every ``bench/bench_*.py`` module's ``run(ctx) -> dict`` and write ``bench/results.json``.

Each module returns a flat-ish dict of figures (seconds as ``*_s``, milliseconds as ``*_ms``,
counts as plain ints) and may include ``"targets": {name: {"value":…, "target":…, "ok":…}}``.
``python -m bench [--data-dir DIR] [--only NAME ...]``; with ``--only`` the other modules' figures
already in ``bench/results.json`` are kept.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BenchContext:
    data_dir: Path | None
    workdir: Path


def _default_data_dir() -> Path | None:
    env = os.environ.get("CAPBRIEF_MARKET_DATA")
    path = Path(env) if env else HERE.parent.parent / "shared" / "data" / "market"
    return path if (path / "GSPC.csv").is_file() else None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="module names, e.g. bench_data")
    args = parser.parse_args()
    data_dir = args.data_dir or _default_data_dir()
    workdir = HERE.parent / "out" / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = BenchContext(data_dir=data_dir, workdir=workdir)
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n in args.only]
    results: dict[str, object] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count(), "data_dir": str(data_dir) if data_dir else None},
    }
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        figures = module.run(ctx)
        figures["wall_s"] = round(time.perf_counter() - started, 3)
        for key, value in figures.items():
            print(f"   {key}: {json.dumps(value)}", flush=True)
        results[name.removeprefix("bench_")] = figures
    out = HERE / "results.json"
    if args.only and out.is_file():  # a partial run updates its modules' figures only
        kept = json.loads(out.read_text())
        kept.update(results)
        results = kept
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
