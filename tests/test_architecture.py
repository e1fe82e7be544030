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


#: Layers inside bot/, lowest first: a module imports only from its own layer or lower ones.
#: Within bot/briefing the same rule holds for its modules (models at the bottom, service on
#: top). Imports under ``if TYPE_CHECKING:`` (types only) do not count.
BOT_LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.errors", "bot.settings", "bot.logs"),
    ("bot.storage", "bot.market_data", "bot.ui", "bot.render", "bot.asof", "bot.validate",
     "bot.services"),
    ("bot.briefing",),
    ("bot.tree",),
    ("bot.subcommands", "bot.client", "bot.cli", "bot.__main__"),
)
BRIEFING_LAYERS: tuple[tuple[str, ...], ...] = (
    ("models",), ("schedule", "post", "store"), ("compose", "sender"), ("fanout", "files"),
    ("service",),
)


def _runtime_imports(path: Path) -> list[str]:
    """Absolute imports, leaving out those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _layer(module: str, layers: tuple[tuple[str, ...], ...], prefix: str = "") -> int | None:
    for level, names in enumerate(layers):
        if any(module == prefix + n or module.startswith(prefix + n + ".") for n in names):
            return level
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_imports_inside_bot_only_run_downward() -> None:
    upward: list[str] = []
    for path in _sources("bot"):
        me = _module_name(path)
        mine = _layer(me, BOT_LAYERS)
        if mine is None:
            continue
        for name in _runtime_imports(path):
            theirs = _layer(name, BOT_LAYERS)
            if _top(name) == "bot" and theirs is not None and theirs > mine:
                upward.append(f"{me} -> {name}")
            if me.startswith("bot.briefing.") and name.startswith("bot.briefing."):
                a = _layer(me, BRIEFING_LAYERS, "bot.briefing.")
                b = _layer(name, BRIEFING_LAYERS, "bot.briefing.")
                if a is not None and b is not None and b > a:
                    upward.append(f"{me} -> {name}")
    assert upward == []
    unplaced = [_module_name(p) for p in _sources("bot")
                if _module_name(p) != "bot" and _layer(_module_name(p), BOT_LAYERS) is None]
    assert unplaced == [], "place every bot module in BOT_LAYERS"
