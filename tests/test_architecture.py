"""The boundaries in CONVENTIONS.md, enforced: analytics is pure; only charts import matplotlib;
only the Yahoo provider imports yfinance; nothing imports pyplot; cogs → bot → analytics."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANALYTICS_BANNED = ("discord", "yfinance", "sqlite3", "sqlalchemy", "aiohttp", "requests",
                    "curl_cffi", "apscheduler", "bot", "cogs", "os", "subprocess", "socket")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


def test_analytics_imports_nothing_impure() -> None:
    bad = [(p.name, n) for p in _sources("analytics") for n in _imports(p)
           if _top(n) in ANALYTICS_BANNED]
    assert bad == []


def test_analytics_reads_no_clock() -> None:
    offenders = [p.name for p in _sources("analytics")
                 if any(s in p.read_text() for s in ("datetime.now(", "date.today(", "time.time(",
                                                      "os.environ", "open("))]
    assert offenders == []


def test_only_charts_import_matplotlib_and_nobody_imports_pyplot() -> None:
    for package in ("bot", "cogs", "analytics"):
        for path in _sources(package):
            names = _imports(path)
            assert "matplotlib.pyplot" not in names, path
            if any(_top(n) == "matplotlib" for n in names):
                assert "analytics/charts" in path.as_posix(), path


def test_only_the_yahoo_provider_imports_yfinance() -> None:
    users = [p.relative_to(REPO).as_posix() for pkg in ("bot", "cogs", "analytics")
             for p in _sources(pkg) if any(_top(n) == "yfinance" for n in _imports(p))]
    assert set(users) <= {"bot/market_data/yahoo.py"}


def test_bot_never_imports_cogs() -> None:
    users = [p.name for p in _sources("bot") if any(_top(n) == "cogs" for n in _imports(p))
             and p.name not in {"client.py"}]
    assert users == []
