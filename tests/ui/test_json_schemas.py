"""JSON as an interface: every ``--json`` document carries ``schema`` and ``schema_version``,
validates against its JSON Schema (draft 2020-12) in docs/schema/, and its numbers are rounded
to their meaning (levels to the cent, returns to 0.01%, yields and spreads to a basis point)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from bot.cli import main
from bot.subcommands.history import STUDIES
from bot.ui import json_out

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schema"


def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validator(shape: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / json_out.SCHEMAS[shape]).read_text())
    return Draft202012Validator(schema, registry=_registry())


def _floats(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(value, float):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _floats(v, f"{path}.{k}")
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v, f"{path}[]")


def _decimals(x: float) -> int:
    text = repr(x)
    if "e" in text:
        mantissa, exp = text.split("e")
        return max(len(mantissa.split(".")[1]) if "." in mantissa else 0, 0) - int(exp)
    return len(text.split(".")[1]) if "." in text else 0


# ---------------------------------------------------------------- schema files


def test_every_schema_file_is_a_valid_2020_12_schema() -> None:
    files = sorted(SCHEMA_DIR.glob("*.schema.json"))
    assert {p.name for p in files} >= set(json_out.SCHEMAS.values()) | {"common.schema.json"}
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path.name
        Draft202012Validator.check_schema(schema)
    assert (SCHEMA_DIR / "README.md").is_file()


def test_every_json_command_has_a_schema() -> None:
    shapes = {"status", "briefing", "drivers", "data.show", *(f"history.{s}" for s in STUDIES)}
    assert shapes <= set(json_out.SCHEMAS), shapes - set(json_out.SCHEMAS)


def test_a_schema_rejects_a_document_of_the_wrong_shape() -> None:
    check = validator("history.cycles")
    bad = {"schema": "history.cycles", "schema_version": "1.0", "asof": "2025-09-18",
           "study": "cycles", "rule": "swing", "swing": "15%", "regimes": [],
           "current_regime": None, "current_extreme_date": None, "current_from_extreme": None,
           "requested_asof": None, "asof_note": None,
           "data": {"latest_session": "2025-09-18", "source": "csv", "stale": False,
                    "stale_reason": None, "missing_symbols": []}}
    errors = [e.message for e in check.iter_errors(bad)]
    assert errors and any("'15%'" in m for m in errors)
    assert not list(check.iter_errors({**bad, "swing": 0.15}))
    assert list(check.iter_errors({**bad, "swing": 0.15, "schema_version": None}))


# ---------------------------------------------------------------- rounding


def test_rounding_follows_field_meaning() -> None:
    reading = {"key": "ten_year", "level_unit": "%", "change_unit": "bp", "level": 4.1039999,
               "change_1m": -19.79999999999995, "change_3m": -0.4, "zscore": -1.02629164663977,
               "relation": {"corr": -0.07250442797775268, "beta": -8.803910929121304e-05}}
    row = {"symbol": "^RUT", "level": 2467.7000000001,
           "returns": {"1m": 0.08391234, "1y": math.nan}}
    out = json_out.round_document({"readings": [reading], "scoreboard": [row],
                                   "drawdown": -0.00001, "mystery": 1 / 3, "count": 7})
    r = out["readings"][0]
    assert (r["level"], r["change_1m"], r["change_3m"], r["zscore"]) == (4.1, -20.0, 0.0, -1.03)
    assert str(r["change_3m"]) == "0.0"  # never -0.0
    assert r["relation"] == {"corr": -0.073, "beta": -8.80391e-05}
    assert out["scoreboard"][0]["level"] == 2467.7
    assert out["scoreboard"][0]["returns"] == {"1m": 0.0839, "1y": None}
    assert out["drawdown"] == 0.0 and out["mystery"] == 0.333333 and out["count"] == 7
    fraction = {"level_unit": "ratio", "change_unit": "fraction", "level": 0.2240000000000002,
                "change_1m": 0.0129999}
    assert json_out.round_document(fraction) == {**fraction, "level": 0.224, "change_1m": 0.013}


def test_daily_returns_keep_their_precision_in_the_rates_shape() -> None:
    bucket = {"rut_mean": 0.000432123, "difference": 8.1e-06, "small_beat_share": 0.51084}
    rates = json_out.round_document({"all_days": bucket}, "history.rates")["all_days"]
    assert rates == {"rut_mean": 0.000432, "difference": 8e-06, "small_beat_share": 0.5108}
    elsewhere = json_out.round_document({"analog": bucket})["analog"]
    assert elsewhere["rut_mean"] == 0.0004


def test_document_stamps_shape_and_version_first() -> None:
    doc = json_out.document("status", {"asof": "2025-09-18", "x": 1.23456789})
    assert list(doc)[:2] == ["schema", "schema_version"]
    assert doc["schema"] == "status" and doc["schema_version"] == json_out.SCHEMA_VERSION
    assert doc["x"] == 1.23457


# ---------------------------------------------------------------- real outputs

COMMANDS: dict[str, list[str]] = {
    "status": ["status"], "briefing": ["briefing"], "drivers": ["drivers"],
    **{f"history.{s}": ["history", s] for s in STUDIES},
}


def _run_json(capsys: pytest.CaptureFixture[str], market_dir: Path, tmp_path: Path,
              argv: list[str], asof: str | None) -> dict[str, Any]:
    config = tmp_path / "quiet.toml"
    config.write_text('[logging]\nlevel = "WARNING"\n')
    replay = ["--asof", asof] if asof else []
    code = main([*argv, "--json", *replay, "--data-dir", str(market_dir),
                 "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.shared_data
@pytest.mark.parametrize("asof", ["2024-12-02", "2025-09-18", "2026-08-20"])
def test_every_json_output_validates_and_is_rounded(market_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    asof: str) -> None:
    for shape, argv in COMMANDS.items():
        doc = _run_json(capsys, market_dir, tmp_path, argv, asof)
        assert doc["schema"] == shape and doc["schema_version"] == json_out.SCHEMA_VERSION
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in validator(shape).iter_errors(doc)]
        assert not errors, (shape, errors[:5])
        assert json_out.round_document(doc, shape) == doc  # one rounding step, already applied
        for path, value in _floats(doc):
            assert float(f"{value:.6g}") == value, (shape, path, value)  # no binary noise
            if path.endswith((".level", ".close", "_close")) and ".readings" not in path:
                assert _decimals(value) <= 2, (shape, path, value)  # to the cent
            fraction = ".returns." in path or path.endswith(
                ("_return", ".drawdown", ".mean", ".median", ".lead_margin"))
            if fraction and shape != "history.rates":
                assert _decimals(value) <= 4, (shape, path, value)  # 0.01%


@pytest.mark.shared_data
def test_the_issue_example_is_a_whole_basis_point(market_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``-19.79999999999995`` was the 10-year yield's 1-month change in bp on 2025-09-18."""
    doc = _run_json(capsys, market_dir, tmp_path, ["drivers"], "2025-09-18")
    ten = next(r for r in doc["readings"] if r["key"] == "ten_year")
    assert ten["change_unit"] == "bp" and ten["change_1m"] == -20.0
    assert ten["level_unit"] == "%" and _decimals(ten["level"]) <= 2


@pytest.mark.shared_data
def test_data_show_json_validates_with_prices_to_the_cent(
        market_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for symbol in ("^RUT", "^TNX", "SPY"):
        doc = _run_json(capsys, market_dir, tmp_path, ["data", "show", symbol, "--tail", "5"],
                        None)
        assert not list(validator("data.show").iter_errors(doc)), symbol
        assert doc["schema"] == "data.show" and len(doc["bars"]) == 5
        for bar in doc["bars"]:
            for key in ("open", "high", "low", "close", "adj_close"):
                assert bar[key] is None or _decimals(bar[key]) <= 2, (symbol, key, bar)
    rut = _run_json(capsys, market_dir, tmp_path, ["data", "show", "^RUT", "--tail", "1"], None)
    assert rut["bars"][-1]["close"] == 3014.34  # the last bar the closing note quotes
