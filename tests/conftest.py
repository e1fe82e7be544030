"""Shared fixtures. Real market history is read from ../shared/data/market (never copied here);
``CAPBRIEF_MARKET_DATA`` may point elsewhere. Where neither holds it, the real-history tests run
on the bundled demo snapshot (the same closes, unpacked once by
:func:`bot.market_data.demo.materialize`), so a clean clone anywhere tests the real analytics."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.fakes.discord_fixtures"]

REPO = Path(__file__).resolve().parent.parent


def market_data_dir() -> Path | None:
    """The real history directory; the unpacked demo snapshot where it is absent; None only
    when the package lacks its demo snapshot too."""
    env = os.environ.get("CAPBRIEF_MARKET_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "market"
    if (path / "GSPC.csv").is_file():
        return path
    from bot.market_data.demo import DemoError, materialize

    try:
        return materialize()
    except DemoError:
        return None


@pytest.fixture(scope="session")
def market_dir() -> Path:
    path = market_data_dir()
    if path is None:
        pytest.skip("real history absent: put ../shared/data/market beside the repo "
                    "or set CAPBRIEF_MARKET_DATA (and the bundled demo snapshot is missing)")
    return path


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read a developer's config.toml or CAPBRIEF_* overrides."""
    for key in list(os.environ):
        if key.startswith("CAPBRIEF_") and key != "CAPBRIEF_MARKET_DATA":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """``bot.cli.main`` installs a root handler; drop it after each test so none leaks."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _discord_requests_are_valid() -> Iterator[None]:
    """Fail a test during which a fake Discord received a request Discord would refuse (against
    its OpenAPI description or documented limits: see ``tests/fakes/discord_spec.py``)."""
    yield
    fake = sys.modules.get("tests.fakes.discord_api")
    if fake is None:  # no fake Discord in this process yet
        return
    found = fake.pop_violations()
    if found:
        pytest.fail("requests Discord would refuse:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def _strict_reply_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply over Discord's limits raises in tests (``bot.ui.limits.STRICT``) instead of being
    cut down quietly: the builder that made it is the bug. (Test modules import the bot at
    collection, before any test runs, so the module is loaded by then where it matters.)"""
    limits = sys.modules.get("bot.ui.limits")
    if limits is not None:
        monkeypatch.setattr(limits, "STRICT", True)
