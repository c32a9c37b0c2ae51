"""The poll scheduler: runs each poll repeatedly at the cadence it asks for, never overlapping, survives errors."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from notifbot.logs import setup_logging
from notifbot.scheduler import Pollers


async def test_polls_repeat_at_their_own_cadence_without_overlap() -> None:
    pollers = Pollers(min_delay=0.01)
    running = 0
    peak = 0
    runs = {"slow": 0, "broken": 0}

    async def slow() -> float:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        runs["slow"] += 1
        await asyncio.sleep(0.05)
        running -= 1
        return 0.01

    async def broken() -> float:
        runs["broken"] += 1
        raise RuntimeError("Marketo said no")

    pollers.add("slow", slow, first_delay=0.01)
    pollers.add("broken", broken, first_delay=0.01)
    pollers.start()
    try:
        await asyncio.sleep(0.6)
    finally:
        pollers.stop()
    assert runs["slow"] >= 3 and peak == 1
    assert runs["broken"] == 1  # an error backs the poll off (300 s) instead of stopping the scheduler
    assert pollers.names == ["broken", "slow"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger and APScheduler's level come back as they were after the test calls setup_logging."""
    root, aps = logging.getLogger(), logging.getLogger("apscheduler")
    saved = (root.handlers[:], root.level, aps.level, logging.getLogger("httpx").level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    aps.setLevel(saved[2])
    logging.getLogger("httpx").setLevel(saved[3])


async def test_polls_log_no_scheduler_chatter_at_info(restore_logging: None) -> None:
    setup_logging([], log_format="json")
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    pollers = Pollers(min_delay=0.01)
    runs = 0

    async def poll() -> float:
        nonlocal runs
        runs += 1
        logging.getLogger("notifbot.sources").info("polled", extra={"run": runs})
        return 0.01

    pollers.add("quota", poll, first_delay=0.01)
    pollers.start()
    try:
        while runs < 3:
            await asyncio.sleep(0.02)
    finally:
        pollers.stop()
    logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    # one line per poll, the poller's own; APScheduler's warnings still pass
    assert [line["logger"] for line in lines if line["logger"].startswith("apscheduler")] == [
        "apscheduler.executors.default"
    ]
    assert len([line for line in lines if line["msg"] == "polled"]) >= 3
    assert all(line["level"] == "warning" for line in lines if line["logger"].startswith("apscheduler"))
