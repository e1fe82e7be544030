"""The Docker image, tested without a Docker engine: its own steps, read from the Dockerfile.

1. The build stage's ``COPY`` sources go into a fresh build context and its ``uv sync`` lines
   run unchanged into a fresh venv (a NON-editable install from ``uv.lock``). Only the cache
   settings differ: the image installs with ``UV_NO_CACHE``, here uv's warm cache is used and
   bytecode is not compiled, to keep the test fast.
2. The runtime stage's ``ENTRYPOINT`` + ``CMD`` (no token) run as the image's numeric ``USER``
   (via ``setpriv``) in a root-owned, read-only working directory holding what the runtime stage
   copies there, with the runtime ``ENV`` (``/data`` mapped to a directory that user owns).
   The preview must land in the ``/data/out`` of that mapping, nothing may be written anywhere
   else, and no traceback may appear.

Market data comes from CSV files (``CAPBRIEF_DATA__PROVIDER=csv``), as an operator without
network would mount them. Skipped, with the reason, only where the install itself is
impossible: no root (to switch user), no ``setpriv`` or ``uv``, or no package index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
#: Interpreters a non-root user can run (the dev venv's may live under a 0700 /root).
PYTHONS = ("/usr/local/bin/python3.11", "/usr/bin/python3.11", "/usr/local/bin/python3",
           "/usr/bin/python3")
NETWORK_ERRORS = ("Failed to fetch", "failed to lookup address", "Connection refused",
                  "dns error", "timed out")


@dataclass
class Stage:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    run: list[str] = field(default_factory=list)
    copy: list[tuple[list[str], str]] = field(default_factory=list)  # (sources, destination)
    user: str = ""
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def _env_pairs(text: str) -> dict[str, str]:
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', text))


def parse_dockerfile(path: Path) -> dict[str, Stage]:
    """The instructions this test needs, per stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    stages: dict[str, Stage] = {}
    stage = Stage("")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            stage = Stage(arg.split()[-1])
            stages[stage.name] = stage
        elif op == "ENV":
            stage.env.update({k: v.strip('"') for k, v in _env_pairs(arg).items()})
        elif op == "RUN":
            stage.run.append(arg)
        elif op == "COPY" and "--from" not in arg:
            *sources, dest = arg.split()
            stage.copy.append((sources, dest))
        elif op == "USER":
            stage.user = arg
        elif op == "WORKDIR":
            stage.workdir = arg
        elif op == "ENTRYPOINT":
            stage.entrypoint = json.loads(arg)
        elif op == "CMD":
            stage.cmd = json.loads(arg)
    return stages


def _usable_python(uid: int) -> str | None:
    for candidate in PYTHONS:
        if not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", candidate, "-c",
             "import sys; assert sys.version_info[:2] == (3, 11)"],
            capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


def _tiny_market(directory: Path) -> None:
    """400 business days of made-up bars for the four status symbols."""
    days = pd.bdate_range("2023-01-02", periods=400)
    rng = np.random.default_rng(3)
    for stem, level in {"RUT": 2000.0, "GSPC": 4500.0, "IWM": 200.0, "SPY": 450.0}.items():
        closes = level * np.exp(np.cumsum(rng.normal(0.0003, 0.01, len(days))))
        pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": closes, "high": closes,
                      "low": closes, "close": closes, "adj_close": closes, "volume": 1000}
                     ).to_csv(directory / f"{stem}.csv", index=False)


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    return parse_dockerfile(REPO / "Dockerfile")


@pytest.fixture(scope="module")
def image_root(stages: dict[str, Stage]) -> Iterator[tuple[Path, int, str]]:
    """(root of the simulated image, its USER uid, the interpreter) with /opt/venv installed."""
    runtime = stages["runtime"]
    uid = int(runtime.user.split(":")[0])  # numeric USER, or this fails
    if os.geteuid() != 0:
        pytest.skip("needs root to run the image's command as its non-root user")
    if shutil.which("setpriv") is None or not UV.exists():
        pytest.skip("needs setpriv and uv (installed by make from uv.lock)")
    python = _usable_python(uid)
    if python is None:
        pytest.skip(f"no Python 3.11 that uid {uid} may run (tried {', '.join(PYTHONS)})")
    root = Path(tempfile.mkdtemp(prefix="capbrief-image-"))
    root.chmod(0o755)
    try:
        build = stages["build"]
        context = root / "src"
        context.mkdir()
        for sources, _ in build.copy:
            for src in sources:
                target = context / src
                if (REPO / src).is_dir():
                    shutil.copytree(REPO / src, target,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(REPO / src, target)
        venv = Path(build.env["UV_PROJECT_ENVIRONMENT"])
        local_venv = root / venv.relative_to("/")
        env = {**os.environ, **build.env, "UV_PROJECT_ENVIRONMENT": str(local_venv),
               "UV_PYTHON": python, "UV_COMPILE_BYTECODE": "0"}
        env.pop("UV_NO_CACHE")
        syncs = [r for r in build.run if r.startswith("uv sync")]
        assert syncs and all("--locked" in r and "--no-editable" in r for r in syncs)
        assert not any("--extra dev" in r for r in syncs)
        for command in syncs:
            done = subprocess.run([str(UV), *command.split()[1:]], cwd=context, env=env,
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0 and any(e in done.stderr for e in NETWORK_ERRORS):
                pytest.skip(f"the install needs the package index: {done.stderr[-300:]}")
            assert done.returncode == 0, done.stderr[-2000:]
        shutil.rmtree(context)  # the runtime stage copies only the venv
        yield root, uid, python
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_install_is_from_the_lock_and_not_editable(image_root: tuple[Path, int, str],
                                                       stages: dict[str, Stage]) -> None:
    root, _, _ = image_root
    venv = root / stages["build"].env["UV_PROJECT_ENVIRONMENT"].lstrip("/")
    python = venv / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import bot, matplotlib, cogs, analytics; "
                            "print(bot.__file__); print(matplotlib.__version__)"],
                           cwd=root, capture_output=True, text=True, check=True).stdout.split()
    assert Path(where[0]).is_relative_to(venv), where  # installed, not pointing at a checkout
    assert where[1].startswith("3.11.")  # the matplotlib the fast renderer was tested on
    dev = subprocess.run([str(python), "-c", "import pytest"], capture_output=True, check=False)
    assert dev.returncode != 0, "dev tools must not be in the image"


def test_default_command_writes_the_preview_as_the_non_root_user(
        image_root: tuple[Path, int, str], stages: dict[str, Stage], tmp_path: Path) -> None:
    root, uid, _ = image_root
    runtime = stages["runtime"]
    data = root / "data"
    (data / "out").mkdir(parents=True)
    for path in (data, data / "out"):
        os.chown(path, uid, uid)
    market = root / "market"
    market.mkdir()
    _tiny_market(market)
    # The working directory: root-owned and read-only, holding what the runtime stage copies.
    app = root / runtime.workdir.lstrip("/")
    app.mkdir(parents=True)
    for sources, _ in runtime.copy:
        for src in sources:
            shutil.copy2(REPO / src, app / Path(src).name)
    app.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH
              | stat.S_IXOTH)

    def mapped(value: str) -> str:
        return value.replace("/data", str(data)).replace("/opt/venv", str(root / "opt/venv"))

    env = {k: mapped(v) for k, v in runtime.env.items()}
    env["PATH"] = env["PATH"].replace("$PATH", "/usr/bin:/bin")
    env.update(CAPBRIEF_DATA__PROVIDER="csv", CAPBRIEF_DATA__CSV_DIR=str(market),
               MPLCONFIGDIR=str(data / ".matplotlib"))  # the image's /tmp is its own
    assert "DISCORD_TOKEN" not in env and "DISCORD_TOKEN_FILE" not in env
    command = [mapped(a) for a in runtime.entrypoint + runtime.cmd]
    assert command[0] == "python"
    command[0] = str(root / "opt/venv/bin/python")
    done = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *command],
        cwd=app, env=env, capture_output=True, text=True, timeout=600, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "make run" not in output
    assert f"Preview written to {data / 'out'}" in done.stdout
    assert "DISCORD_TOKEN_FILE" in done.stdout  # how to add the token in a container
    summary = data / "out" / "summary.md"
    assert summary.stat().st_uid == uid
    assert "| ^RUT | index |" in summary.read_text()
    assert sorted(p.name for p in app.iterdir()) == ["config.example.toml"]  # nothing written
    assert not list((data / "out").glob("*.partial"))


def test_one_uv_version_everywhere(stages: dict[str, Stage]) -> None:
    """The Makefile's bootstrap, the image's and the lock's uv are the same release."""
    locked = re.search(r'name = "uv"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text())
    assert locked is not None
    make = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert make is not None and make.group(1) == locked.group(1)
    assert f"pip install uv=={locked.group(1)}" in stages["build"].run
