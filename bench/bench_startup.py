"""Start-up, each figure beside its baseline, as cold processes, paired runs alternating.

- ready: process spawn → the gateway session is live on the loopback fake Discord (READY sent),
  capbrief (:class:`bot.client.CapbriefBot`, CSV replay, cogs loaded, commands synced) vs a bare
  ``discord.Client`` on the same fake (``bench/startup_child.py``); per pair the ratio, then the
  median ratio with its min-max. Also capbrief's first ``/about`` answered, the briefing and
  alerts services started (built after ready: database, schedulers, catch-up) and the
  background render-pool warm-up finishing (after ready: the first render may wait for it).
- idle RSS: once settled, the resident memory of each process tree (capbrief: main process,
  fork server and render workers; bare: one process), Linux ``/proc``; capbrief's main process
  alone too.
- status: ``python -m bot status --asof DAY --data-dir DIR`` vs ``bench/naive_status.py`` (plain
  pandas reading the same CSVs and printing the same returns table, checked equal first).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PAIRS_READY = 5
PAIRS_STATUS = 5
STATUS_DAY = "2025-09-18"


def _rss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(match[1]) if match else 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def tree_rss_mb(pid: int) -> tuple[float, float, int]:
    """(RSS of ``pid`` and all its descendants, RSS of ``pid`` alone, process count), in MB."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return (sum(_rss_kb(p) for p in seen) / 1024, _rss_kb(pid) / 1024, len(seen))


def one_start(mode: str, data_dir: Path, workdir: Path) -> dict[str, float]:
    """Spawn ``startup_child`` and time its lines from before the spawn; sample idle RSS."""
    t0 = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.startup_child", mode, str(data_dir),
                              str(workdir)], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None and child.stdin is not None
    stamps: dict[str, float] = {}
    for line in child.stdout:
        word = line.strip()
        stamps[word] = time.perf_counter() - t0
        if word == "IDLE":
            tree, main, count = tree_rss_mb(child.pid)
            stamps.update(rss_tree_mb=tree, rss_main_mb=main, processes=count)
            child.stdin.close()
    child.wait(60)
    if child.returncode != 0 or "READY" not in stamps:
        raise RuntimeError(f"{mode} start-up child failed ({child.returncode}): {stamps}")
    return stamps


def one_status(argv: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, done.stdout


def returns_table(text: str) -> list[list[str]]:
    """The four return rows (level and six returns) from either program's output: the indexes'
    price returns and the ETFs' total returns. The bot prints an ETF's total returns on a
    ``total return`` line under its price row; the naive script on one ``(total return)`` row."""
    rows = []
    lines = text.splitlines()
    for line, after in zip(lines, [*lines[1:], ""], strict=True):
        if "%" not in line:
            continue
        if line.startswith(("Russell 2000 ", "S&P 500 ", "IWM (total return)",
                            "SPY (total return)")):
            rows.append(line.split()[-7:])
        elif line.startswith(("IWM ", "SPY ")) and after.strip().startswith("total return"):
            rows.append([line.split()[1], *after.split()[-6:]])
    return rows


def _ratio_stats(ratios: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(ratios), 2), "min": round(min(ratios), 2),
            "max": round(max(ratios), 2), "pairs": len(ratios)}


def _s(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def run(ctx: Any) -> dict[str, Any]:
    if ctx.data_dir is None:
        return {"skipped": "no market data (../shared/data/market or CAPBRIEF_MARKET_DATA)"}
    data_dir, workdir = Path(ctx.data_dir), Path(ctx.workdir)
    env_ok = sys.platform.startswith("linux") and os.path.isdir("/proc")
    out: dict[str, Any] = {}

    runs: dict[str, list[dict[str, float]]] = {"bare": [], "capbrief": []}
    for i in range(PAIRS_READY):  # alternate which goes first
        modes = list(runs)
        for mode in modes[i % 2:] + modes[:i % 2]:
            runs[mode].append(one_start(mode, data_dir, workdir))
    bare, capbrief = runs["bare"], runs["capbrief"]
    ready_ratio = [c["READY"] / b["READY"] for b, c in zip(bare, capbrief, strict=True)]
    out["ready_s"] = {"capbrief": _s([c["READY"] for c in capbrief]),
                      "bare_client": _s([b["READY"] for b in bare])}
    out["ready_ratio_vs_bare"] = _ratio_stats(ready_ratio)
    out["capbrief_first_answer_s"] = _s([c["ANSWERED"] for c in capbrief])
    out["capbrief_services_started_s"] = _s([c["SERVICES"] for c in capbrief])
    out["capbrief_pool_warm_s"] = _s([c["WARM"] for c in capbrief])
    if env_ok:
        out["idle_rss_mb"] = {
            "capbrief_tree": round(statistics.median(c["rss_tree_mb"] for c in capbrief), 1),
            "capbrief_main": round(statistics.median(c["rss_main_mb"] for c in capbrief), 1),
            "capbrief_processes": int(statistics.median(c["processes"] for c in capbrief)),
            "bare_client": round(statistics.median(b["rss_tree_mb"] for b in bare), 1)}

    bot_argv = [sys.executable, "-m", "bot", "status", "--asof", STATUS_DAY,
                "--data-dir", str(data_dir)]
    naive_argv = [sys.executable, str(HERE / "naive_status.py"), str(data_dir), STATUS_DAY]
    _, bot_text = one_status(bot_argv)  # also warms the OS file cache for both
    _, naive_text = one_status(naive_argv)
    if returns_table(bot_text) != returns_table(naive_text) or len(returns_table(bot_text)) != 4:
        raise RuntimeError("naive_status.py does not print the bot's returns table")
    bot_times: list[float] = []
    naive_times: list[float] = []
    for i in range(PAIRS_STATUS):
        order = (bot_argv, naive_argv) if i % 2 == 0 else (naive_argv, bot_argv)
        for argv in order:
            (bot_times if argv is bot_argv else naive_times).append(one_status(argv)[0])
    status_ratio = [b / n for b, n in zip(bot_times, naive_times, strict=True)]
    out["status_cold_s"] = {"capbrief": _s(bot_times), "naive_pandas": _s(naive_times)}
    out["status_ratio_vs_naive"] = _ratio_stats(status_ratio)

    ready = out["ready_ratio_vs_bare"]["median"]
    status = out["status_ratio_vs_naive"]["median"]
    out["targets"] = {
        "ready_vs_bare_client": {"value": ready, "target": "<= 2x (median of pairs)",
                                 "ok": ready <= 2},
        "status_vs_naive_pandas": {"value": status, "target": "<= 1.5x (median of pairs)",
                                   "ok": status <= 1.5},
    }
    return out
