"""Slash-command input checks (no Discord needed)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import BadInput
from bot.validate import check_choice, check_known, check_range, parse_asof, parse_symbols, shown


def test_symbols_are_split_upper_cased_and_deduplicated() -> None:
    assert parse_symbols(" iwm, SPY  iwm ^rut ") == ["IWM", "SPY", "^RUT"]
    assert parse_symbols("brk-b") == ["BRK-B"]


@pytest.mark.parametrize("text", ["", "   ", None, "A" * 200, "../x", "'SPY'", "SPY;", "📈",
                                  "a b c d e", "$(rm)", "IWM\nSPY\tQQQ XLF XLE"])
def test_bad_symbol_lists_are_refused(text: str | None) -> None:
    with pytest.raises(BadInput):
        parse_symbols(text)


def test_echoed_text_cannot_break_out_of_code_or_grow() -> None:
    assert shown("`@everyone`\n" + "x" * 50) == "@everyonexxxxxxxxxx…"
    assert len(shown("y" * 500)) == 20


def test_asof_parsing() -> None:
    today = date(2026, 8, 21)
    assert parse_asof(None, today=today) is None
    assert parse_asof(" 2025-09-18 ", today=today) == date(2025, 9, 18)
    with pytest.raises(BadInput, match="future"):
        parse_asof("2026-08-22", today=today)
    with pytest.raises(BadInput, match="YYYY-MM-DD"):
        parse_asof("18/09/2025", today=today)


def test_choices_ranges_and_unknown_symbols() -> None:
    assert check_choice("kind", "ratio", ["price", "ratio"]) == "ratio"
    with pytest.raises(BadInput, match="one of price, ratio"):
        check_choice("kind", "pie", ["price", "ratio"])
    assert check_range("gap_days", None, 30, 3650) is None
    with pytest.raises(BadInput, match="between 30 and 3650"):
        check_range("gap_days", 29, 30, 3650)
    with pytest.raises(BadInput, match="whole number"):
        check_range("gap_days", "ten", 30, 3650)  # type: ignore[arg-type]
    check_known(["IWM"], [])
    with pytest.raises(BadInput, match="ZZZ"):
        check_known(["IWM", "ZZZ"], ["ZZZ"])
