"""The bars handed to pool workers by file (:mod:`bot.render_frames`): each frame written once
while it lives, read back equal, old files deleted past ``entries``, everything removed on
close."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pandas as pd

from bot.render_frames import FrameShelf, load_bars


def frame(n: int, start: float = 100.0) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=n, freq="B")
    return pd.DataFrame({"close": [start + i for i in range(n)]}, index=index)


def test_a_frame_is_written_once_and_read_back_equal() -> None:
    shelf = FrameShelf()
    bars = {"^RUT": frame(30), "^GSPC": frame(40, 500.0)}
    assert shelf.known(bars) is None
    refs = shelf.put(bars)
    assert shelf.written == 2 and shelf.known(bars) == refs
    assert shelf.put(bars) == refs and shelf.written == 2
    loaded = load_bars(refs)
    for symbol, original in bars.items():
        pd.testing.assert_frame_equal(loaded[symbol], original)
    shelf.close()
    assert not any(Path(r.path).exists() for r in refs.values())


def test_a_new_frame_object_or_another_symbol_is_written_again() -> None:
    shelf = FrameShelf()
    one = frame(10)
    first = shelf.put({"IWM": one})["IWM"]
    assert shelf.known({"SPY": one}) is None  # the same frame under another name
    again = shelf.put({"IWM": frame(10)})["IWM"]  # equal values, a different object
    assert again.path != first.path and shelf.written == 2
    shelf.close()


def test_freed_frames_are_not_kept_alive_and_old_files_are_deleted() -> None:
    shelf = FrameShelf(entries=2)
    kept = frame(5)
    first = shelf.put({"A": kept})["A"]
    other = frame(6)
    alive = weakref.ref(other)
    shelf.put({"B": other})
    del other
    gc.collect()
    assert alive() is None  # the shelf does not keep a superseded frame in memory
    shelf.put({"C": frame(7)})  # a third entry: the least recently used file goes
    assert not Path(first.path).exists()
    assert shelf.known({"A": kept}) is None
    shelf.close()
