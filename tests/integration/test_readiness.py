"""/readyz says whether an event can be committed now, within its bound, under real storage faults.

The faults are real: a full tmpfs, an ext4 filesystem that turns read-only (`remount,abort`, what ext4 does on an
I/O error), `fsfreeze`, `chattr +i` (root ignores permission bits, not the immutable attribute), read-only mounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from notifbot.app import Bot
from notifbot.errors import ConfigError
from notifbot.store.runner import Database
from tests.integration import mounts
from tests.integration.conftest import BotFactory, client_for
from tests.integration.mounts import needs_root
from tests.integration.process import BotProcess

pytestmark = needs_root
BOUND = 2.0  # seconds /readyz may take, whatever the disk does


async def readyz(bot: Bot) -> tuple[int, str, float]:
    """Status, body and how long /readyz took."""
    started = time.monotonic()
    async with client_for(bot) as client:
        r = await client.get("/readyz", timeout=30)
    return r.status_code, r.text, time.monotonic() - started


async def until(bot: Bot, status: int, within: float = 6.0) -> str:
    """Polls /readyz until it answers `status` (each answer inside the bound); returns that answer's body."""
    deadline = time.monotonic() + within
    while True:
        code, text, took = await readyz(bot)
        assert took < BOUND + 0.5, f"/readyz took {took:.1f} s"
        if code == status:
            return text
        assert time.monotonic() < deadline, f"/readyz still answers {code}: {text}"
        await asyncio.sleep(0.2)


async def post(bot: Bot, key: str) -> int:
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json={"kind": "audit", "id": key}, timeout=30)
    return r.status_code


async def test_disk_full_is_not_ready_and_recovers(tmp_path: Path, bot_factory: BotFactory) -> None:
    with mounts.tmpfs(tmp_path / "fs", "40m") as fs:
        bot = await bot_factory(storage={"path": str(fs / "notifbot.db")})
        try:
            assert "ready" in await until(bot, 200)
            filler = mounts.fill(fs)
            text = await until(bot, 503)
            assert "disk full" in text and "bytes free" in text
            filler.unlink()
            await until(bot, 200)
            assert await post(bot, "after-the-disk-was-freed") == 202
        finally:
            await bot.stop()


async def test_filesystem_turning_read_only_is_not_ready(tmp_path: Path, bot_factory: BotFactory) -> None:
    with mounts.ext4(tmp_path / "fs", 64) as fs:
        bot = await bot_factory(storage={"path": str(fs / "notifbot.db")})
        try:
            await until(bot, 200)
            mounts.run(
                "mount", "-o", "remount,abort", str(fs)
            )  # ext4's emergency read-only, as after an I/O error
            text = await until(bot, 503)
            assert "read-only" in text
            assert await post(bot, "lost?") == 503  # what readiness predicted
        finally:
            await bot.stop()


async def test_frozen_filesystem_answers_within_the_bound(tmp_path: Path, bot_factory: BotFactory) -> None:
    with mounts.ext4(tmp_path / "fs", 64) as fs:
        bot = await bot_factory(storage={"path": str(fs / "notifbot.db")})
        try:
            await until(bot, 200)
            with mounts.frozen(fs):
                await asyncio.sleep(1.1)  # past the cached answer
                code, text, took = await readyz(bot)
                assert code == 503 and "has not finished" in text
                assert BOUND - 0.1 <= took < BOUND + 0.5
                code, text, took = await readyz(
                    bot
                )  # the stuck probe is not repeated: the answer is immediate
                assert code == 503 and took < 0.5
            await until(bot, 200)  # thawed: the probe finishes and readiness comes back
        finally:
            await bot.stop()


async def test_immutable_database_file_is_not_ready(tmp_path: Path, bot_factory: BotFactory) -> None:
    db = tmp_path / "notifbot.db"
    bot = await bot_factory(storage={"path": str(db)})
    try:
        await until(bot, 200)
        with mounts.immutable(db):  # the WAL still takes commits, but no checkpoint can copy them back
            text = await until(bot, 503)
            assert f"{db} is not writable" in text
        await until(bot, 200)
    finally:
        await bot.stop()


async def test_immutable_wal_is_not_ready_and_ingest_fails_alike(
    tmp_path: Path, bot_factory: BotFactory
) -> None:
    db = tmp_path / "notifbot.db"
    bot = await bot_factory(storage={"path": str(db)})
    try:
        await until(bot, 200)
        with mounts.immutable(Path(f"{db}-wal")):
            text = await until(bot, 503)
            assert f"{db}-wal is not writable" in text
            assert await post(bot, "lost?") == 503
        await until(bot, 200)
    finally:
        await bot.stop()


async def test_shm_deleted_under_the_process_is_not_ready(tmp_path: Path, bot_factory: BotFactory) -> None:
    db = tmp_path / "notifbot.db"
    bot = await bot_factory(storage={"path": str(db)})
    try:
        await until(bot, 200)
        os.unlink(
            f"{db}-shm"
        )  # another process opening the database now would build a second, different index
        text = await until(bot, 503)
        assert "-shm was deleted" in text and "restart notifbot" in text
    finally:
        await bot.stop()


def test_refuses_to_open_a_database_on_a_read_only_mount(tmp_path: Path) -> None:
    source, view = tmp_path / "data", tmp_path / "ro"
    Database(source / "notifbot.db").close()
    view.mkdir()
    mounts.run("mount", "--bind", str(source), str(view))
    try:
        mounts.run("mount", "-o", "remount,bind,ro", str(view))
        with pytest.raises(ConfigError, match=rf"storage\.path: {re.escape(str(view))} is not writable"):
            Database(view / "notifbot.db")
    finally:
        mounts.unmount(view)


def test_refuses_to_create_a_database_on_a_read_only_filesystem(tmp_path: Path) -> None:
    with (
        mounts.tmpfs(tmp_path / "fs", "1m", read_only=True) as fs,
        pytest.raises(ConfigError, match=r"storage\.path: .*/fs is not writable"),
    ):
        Database(fs / "notifbot.db")


@pytest.mark.slow
def test_sigbus_from_an_unwritable_shm_leaves_a_clear_line_and_a_restart_refuses(tmp_path: Path) -> None:
    db = tmp_path / "notifbot.db"
    bot = BotProcess(tmp_path, {"storage": {"path": str(db)}})
    try:
        bot.start()
        assert bot.post({"kind": "audit", "id": "before"}).status_code == 202
        with mounts.immutable(Path(f"{db}-shm")):
            # SQLite maps the -shm; the kernel refuses the next write to the mapping with SIGBUS (documented in the
            # README): the death cannot be caught, but it must not be silent
            with contextlib.suppress(httpx.HTTPError):
                bot.post({"kind": "audit", "id": "during"})
            assert bot.proc is not None and bot.proc.wait(20) == -signal.SIGBUS
            assert "Fatal Python error: Bus error" in bot.stderr()
            again = subprocess.run(
                [sys.executable, "-m", "notifbot", "serve", *bot.args, "--log-format", "json"],
                capture_output=True,
                text=True,
                env=bot.env,
                cwd=tmp_path,
                timeout=60,
                check=False,
            )
            assert again.returncode == 1
            assert f"storage.path: {db}-shm is not writable" in again.stderr
        bot.start()  # once the -shm is writable again: recovered from the WAL, nothing acknowledged is lost
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("SELECT count(*) FROM events WHERE key = 'before'").fetchone() == (1,)
        finally:
            conn.close()
    finally:
        bot.stop()
