"""First run with no network: ``python -m bot run`` as a subprocess, beside its baseline.

- ``offline``: no token, no config, no data, every HTTP(S) request sent to a refused loopback
  proxy (``tests/fakes/offline.py``): the time to the one "Yahoo Finance is unreachable" line
  (issue 9: within 10 s) and the wall time to the written demo preview. The demo snapshot is
  unpacked from scratch (a fresh TMPDIR) each time.
- ``baseline``: the same preview by a direct CSV replay of the already-unpacked demo snapshot
  (``python -m bot run --data-dir DIR``): the work left once the network attempt is taken out.

Each is run ``RUNS`` times in a fresh working directory; medians are reported. Interpreter start
and imports are inside both figures, as they are for a user.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bot.market_data import demo
from tests.fakes.offline import CliRun, run_cli

RUNS = 3
UNREACHABLE_TARGET_S = 10.0


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def run(ctx: Any) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="first-run-", dir=ctx.workdir))
    try:
        demo_dir = demo.materialize(root / "demo")
        offline: list[CliRun] = []
        baseline: list[CliRun] = []
        for i in range(RUNS):
            offline.append(run_cli(root / f"offline-{i}", ["run"], blocked=True))
            baseline.append(run_cli(root / f"baseline-{i}", ["run", "--data-dir", str(demo_dir)],
                                    blocked=True))
        failed = [r.text for r in offline + baseline if r.returncode != 0]
        if failed:
            return {"error": failed[0][-2000:]}
        said = [r.first("unreachable") for r in offline]
        to_line = _median([t for t, _ in filter(None, said)]) if all(said) else None
        offline_wall = _median([r.wall_s for r in offline])
        baseline_wall = _median([r.wall_s for r in baseline])
        return {
            "runs": RUNS,
            "offline_unreachable_line_s": to_line,
            "offline_wall_s": offline_wall,
            "baseline_csv_replay_of_demo_wall_s": baseline_wall,
            "offline_over_baseline_s": round(offline_wall - baseline_wall, 3),
            "offline_output_lines": max(len(r.lines) for r in offline),
            "targets": {
                "unreachable_line": {"value": to_line, "target": f"< {UNREACHABLE_TARGET_S:g} s",
                                     "ok": to_line is not None
                                     and to_line < UNREACHABLE_TARGET_S},
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
