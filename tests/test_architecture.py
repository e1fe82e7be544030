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


#: Inside ``bot/``, bottom to top: a module may import from its own layer or any layer below,
#: never above. Every module under ``bot/`` must be placed here (the longest matching prefix
#: wins), so a new module is put in the stack on purpose. See docs/architecture.md. Imports under
#: ``if TYPE_CHECKING:`` (types only) do not count.
BOT_LAYERS: tuple[tuple[str, ...], ...] = (
    # foundation: errors, configuration, the bar-frame format, metric counters, plain models
    ("bot.errors", "bot.settings", "bot.logs", "bot.clock", "bot.metrics", "bot.healthcheck",
     "bot.briefing.models", "bot.market_data.frames", "bot.singleflight",
     "bot.deferred_service"),
    ("bot.storage",),                                   # SQL: engine, migrations, repositories
    ("bot.market_data",),                               # the one data path
    # building blocks: the data's age (NYSE calendar) and every text surface, then the rest
    ("bot.data_age",),
    ("bot.ui",),
    ("bot.asof", "bot.validate", "bot.render", "bot.chart_request", "bot.briefing.schedule",
     "bot.alerts.params", "bot.render_frames", "bot.render_jobs"),
    ("bot.briefing", "bot.alerts"),                     # the morning post and the alerts
    # the running process
    ("bot.services", "bot.health", "bot.tree", "bot.briefing.service", "bot.alerts.service"),
    ("bot.client",),
    ("bot.subcommands", "bot.cli", "bot.__main__"),     # entry points
)
#: Inside ``bot/briefing``, bottom to top (the same rule, one package).
BRIEFING_LAYERS: tuple[tuple[str, ...], ...] = (
    ("models",), ("schedule", "post", "store"), ("compose", "sender", "ledger_runtime"),
    ("fanout", "files"),
    ("service",),
)
#: Upward imports tolerated for now (none: keep it that way).
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str, layers: tuple[tuple[str, ...], ...] = BOT_LAYERS,
           prefix: str = "") -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, names in enumerate(layers):
        for name in names:
            full = prefix + name
            matches = module == full or module.startswith(full + ".")
            if matches and (best is None or len(full) > best[0]):
                best = (len(full), index)
    return None if best is None else best[1]


def _bot_imports(path: Path) -> list[str]:
    """``bot.*`` modules imported by ``path`` (``from bot import x`` counts as ``bot.x``),
    leaving out imports under ``if TYPE_CHECKING:``."""
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
            names.extend(a.name for a in node.names if _top(a.name) == "bot")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot":
                names.extend(f"bot.{a.name}" for a in node.names)
            elif _top(node.module) == "bot":
                names.append(node.module)
    return [n for n in names if n != "bot"]


def test_every_bot_module_has_a_layer() -> None:
    missing = [_module(p) for p in _sources("bot")
               if _module(p) != "bot" and _layer(_module(p)) is None]
    assert missing == [], "place these in BOT_LAYERS"


def test_imports_inside_bot_only_run_downward() -> None:
    upward = []
    for path in _sources("bot"):
        me = _module(path)
        here = _layer(me)
        if here is None:
            continue
        for name in _bot_imports(path):
            there = _layer(name)
            rel = path.relative_to(REPO).as_posix()
            if there is not None and there > here and (rel, name) not in KNOWN_UPWARD:
                upward.append(f"{rel} (layer {here}) imports {name} (layer {there})")
            if me.startswith("bot.briefing.") and name.startswith("bot.briefing."):
                a = _layer(me, BRIEFING_LAYERS, "bot.briefing.")
                b = _layer(name, BRIEFING_LAYERS, "bot.briefing.")
                if a is not None and b is not None and b > a:
                    upward.append(f"{rel} imports {name} (above it inside bot/briefing)")
    assert upward == []


def test_cogs_do_not_import_the_command_line() -> None:
    users = [(p.relative_to(REPO).as_posix(), n) for p in _sources("cogs")
             for n in _bot_imports(p) if n == "bot.cli" or n.startswith("bot.subcommands")]
    assert [u for u in users if u not in KNOWN_UPWARD] == []


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: storage importing the service layer is reported."""
    assert _layer("bot.storage.repositories") == 1
    assert _layer("bot.market_data.frames") == 0 and _layer("bot.market_data.cache") == 2
    assert _layer("bot.briefing.models") == 0 and _layer("bot.briefing.service") > _layer(
        "bot.briefing.fanout")  # type: ignore[operator]
    probe = tmp_path / "probe.py"
    probe.write_text("from bot import services\nfrom bot.market_data.frames import x\n"
                     "if TYPE_CHECKING:\n    from bot.client import y\n")
    assert _bot_imports(probe) == ["bot.services", "bot.market_data.frames"]
