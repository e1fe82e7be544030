"""Where the CPU-heavy part of a reply runs (issue 12 item 4): /status's analysis for a new date
and its chart input, and /chart's input, are jobs in the render pool's worker processes, never
work in the bot's own process; the bars reach the workers by file, once per frame."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import Harness

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_status_for_a_new_date_analyses_in_a_pool_worker(harness: Harness) -> None:
    renderer = harness.bot.services.renderer
    analyses, jobs = renderer.analyses, renderer.jobs
    callback, reply = await harness.reply("status", {"asof": "2003-03-11"})
    assert callback.json["type"] == 5 and reply.files
    assert renderer.analyses - analyses == 2  # the leadership snapshot and the chart input
    assert renderer.jobs - jobs == 3  # ... and the render
    assert renderer.analysis_pids, "no analysis ran in the pool"
    assert os.getpid() not in renderer.analysis_pids
    assert renderer.analysis_pids <= set(renderer.worker_pids())

    written, jobs = renderer.frames.written, renderer.jobs
    await harness.reply("status", {"asof": "2003-03-11"})  # the same date: cached
    assert renderer.jobs == jobs
    await harness.reply("status", {"asof": "2007-10-09"})  # a new date, the same bars
    assert renderer.jobs - jobs == 3
    assert renderer.frames.written == written  # no frame written twice


async def test_chart_builds_its_input_in_a_pool_worker(harness: Harness) -> None:
    renderer = harness.bot.services.renderer
    analyses, jobs = renderer.analyses, renderer.jobs
    callback, reply = await harness.reply("chart", {"symbols": "IWM SPY", "kind": "ratio"})
    assert callback.json["type"] == 5 and reply.files
    assert "IWM/SPY" in str(reply.embeds())  # the embed is built from the worker's input
    assert renderer.analyses - analyses == 1
    assert renderer.jobs - jobs == 2
    assert os.getpid() not in renderer.analysis_pids
