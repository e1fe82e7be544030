"""Timing helpers shared by the bench modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def times_ms(fn: Callable[[], object], runs: int) -> dict[str, float]:
    """Call ``fn`` once to warm up, then ``runs`` times: p50 and p95 in milliseconds."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50": round(statistics.median(samples), 3),
            "p95": round(samples[min(len(samples) - 1, int(0.95 * len(samples)))], 3),
            "runs": runs}
