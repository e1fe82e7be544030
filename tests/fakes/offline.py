"""A machine with no network, for a subprocess: every HTTP(S) request goes to a refused port.

libcurl (under curl_cffi, under yfinance) honours ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, so
pointing them at a loopback port nothing listens on makes every request fail to connect at once,
without a single packet leaving the machine. :func:`run_cli` runs ``python -m bot ...`` in a
clean working directory (no ``config.toml``, no ``../shared``, no token, its own temp and cache
directories) and records each output line with the seconds since start, for the first-run test
and ``bench/bench_first_run.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def offline_env(workdir: Path, *, blocked: bool = True) -> dict[str, str]:
    """This process's environment minus the token and ``CAPBRIEF_*``, with temp and cache
    directories under ``workdir``; ``blocked``: all HTTP(S) through a refused loopback proxy."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CAPBRIEF_") and k not in ("DISCORD_TOKEN", *PROXY_VARS,
                                                         "NO_PROXY", "no_proxy")}
    for name in ("tmp", "cache"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    env.update(TMPDIR=str(workdir / "tmp"), XDG_CACHE_HOME=str(workdir / "cache"),
               PYTHONUNBUFFERED="1")
    if blocked:
        proxy = f"http://127.0.0.1:{refused_port()}"
        env.update(dict.fromkeys(PROXY_VARS, proxy))
    return env


@dataclass(frozen=True)
class CliRun:
    """What one ``python -m bot ...`` run printed (stdout and stderr merged, in order)."""

    returncode: int
    lines: tuple[tuple[float, str], ...]  # (seconds since start, text)
    wall_s: float

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def first(self, needle: str) -> tuple[float, str] | None:
        """The first line containing ``needle`` with its time, or None."""
        return next(((t, line) for t, line in self.lines if needle in line), None)


def run_cli(workdir: Path, args: Sequence[str], *, blocked: bool = True,
            timeout: float = 300.0) -> CliRun:
    """Run ``python -m bot *args`` in ``workdir`` (see the module doc)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = offline_env(workdir, blocked=blocked)
    started = time.perf_counter()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=workdir, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        try:
            for raw in proc.stdout:
                lines.append((time.perf_counter() - started, raw.rstrip("\n")))
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"python -m bot {' '.join(args)} ran past {timeout:g} s")
            code = proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - started)))
        except BaseException:
            proc.kill()
            raise
    return CliRun(returncode=code, lines=tuple(lines), wall_s=time.perf_counter() - started)
