"""Bar frames for the pool workers: written to a file once per frame, read once per worker.

A command's analysis runs in a render-pool worker (:meth:`bot.render.Renderer.analyse`), and
the worker needs the bars. Pickling four 47-year frames into every job would put megabytes
through the pool's pipe (and its pickling on the bot's GIL) per request, so the bot hands each
frame over once instead:

- **Bot side** (:class:`FrameShelf`): a frame is pickled to a file in a private temporary
  folder the first time a job needs it, in a thread; the job then carries a :class:`FrameRef`
  (symbol and path, a few bytes). Frames are immutable once cached (the market data returns the
  same objects until a bar changes), so they are known by identity: a warm request costs a dict
  lookup and no thread hop. The shelf holds the frames weakly (a superseded frame is freed as
  usual), keeps the files of the ``entries`` most recently used ones and deletes older files; a
  frame needed again is written again.
- **Worker side** (:func:`load_bars`): each worker keeps the ``WORKER_FRAMES`` most recently
  read frames by path, so it reads a file once per data version.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Frames one worker keeps in memory (the universe is ~30 symbols).
WORKER_FRAMES = 64
_LOADED: OrderedDict[str, Any] = OrderedDict()


@dataclass(frozen=True)
class FrameRef:
    """Where a worker finds one symbol's bars."""

    symbol: str
    path: str


class FrameShelf:
    """The bot side: frames on file for the workers (see the module docstring)."""

    def __init__(self, entries: int = 128) -> None:
        self.entries = entries
        #: Files written so far (a frame written again after eviction counts again).
        self.written = 0
        self._root: Path | None = None
        self._held: OrderedDict[int, tuple[weakref.ref[Any], FrameRef]] = OrderedDict()
        self._names = itertools.count()
        self._lock = threading.Lock()  # put() runs in threads, known() on the loop

    def known(self, bars: Mapping[str, pd.DataFrame]) -> dict[str, FrameRef] | None:
        """The refs of ``bars`` when every frame is on file already (else None): no I/O."""
        refs: dict[str, FrameRef] = {}
        with self._lock:
            for symbol, frame in bars.items():
                held = self._held.get(id(frame))
                if held is None or held[0]() is not frame or held[1].symbol != symbol:
                    return None
                self._held.move_to_end(id(frame))
                refs[symbol] = held[1]
        return refs

    def put(self, bars: Mapping[str, pd.DataFrame]) -> dict[str, FrameRef]:
        """The refs of ``bars``, writing the frames not on file yet (blocking: a thread)."""
        refs: dict[str, FrameRef] = {}
        with self._lock:
            for symbol, frame in bars.items():
                held = self._held.get(id(frame))
                if held is None or held[0]() is not frame or held[1].symbol != symbol:
                    held = (weakref.ref(frame), self._write(symbol, frame))
                    self._held[id(frame)] = held
                    self.written += 1
                self._held.move_to_end(id(frame))
                refs[symbol] = held[1]
            while len(self._held) > self.entries:
                _, (_, old) = self._held.popitem(last=False)
                with contextlib.suppress(OSError):
                    os.unlink(old.path)
        return refs

    def _write(self, symbol: str, frame: pd.DataFrame) -> FrameRef:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="capbrief-frames-"))
        path = self._root / f"{next(self._names)}.pkl"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)  # a worker never reads half a file
        return FrameRef(symbol, str(path))

    def close(self) -> None:
        """Delete every file (the workers are stopped first)."""
        with self._lock:
            self._held.clear()
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None


def load_bars(refs: Mapping[str, FrameRef]) -> dict[str, pd.DataFrame]:
    """Worker side: the frames of ``refs`` (from this worker's memory after the first read)."""
    bars: dict[str, pd.DataFrame] = {}
    for symbol, ref in refs.items():
        frame = _LOADED.get(ref.path)
        if frame is None:
            with open(ref.path, "rb") as fh:
                frame = pickle.load(fh)
            _LOADED[ref.path] = frame
            while len(_LOADED) > WORKER_FRAMES:
                _LOADED.popitem(last=False)
        else:
            _LOADED.move_to_end(ref.path)
        bars[symbol] = frame
    return bars
