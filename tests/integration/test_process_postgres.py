"""The real `notifbot serve` process on PostgreSQL (NOTIFBOT_DATABASE_URL): ready, ingest, delivery, redaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.integration.process import BotProcess, wait_until

pytestmark = pytest.mark.slow
# the server trusts loopback connections and ignores the password: it can only show up through notifbot itself
PASSWORD = "pg-pass-never-logged-42"


def with_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def shown(url: str) -> str:
    parts = urlsplit(url)
    return (
        f"{parts.scheme}://{parts.username or 'postgres'}@{parts.hostname}:{parts.port or 5432}{parts.path}"
    )


def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    from notifbot.store import pg

    conn = pg.connect(url)
    try:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def test_serve_on_postgres_takes_and_delivers_events_and_never_logs_the_password(
    tmp_path: Path, procs: list[BotProcess], postgres_url: str
) -> None:
    url = with_password(postgres_url)
    config = {
        "storage": {"path": str(tmp_path / "ignored.db")},  # set, so the "ignored" warning is logged
        "delivery": {"poll_seconds": 0.1},  # the default repeat grouping: the event opens an alert group
    }
    bot = BotProcess(tmp_path, config, {"NOTIFBOT_DATABASE_URL": url})
    procs.append(bot)
    bot.start()  # returns once /readyz answers 200: migrated, pooled, probe committed
    assert bot.post({"kind": "campaign_failure", "id": "pg-1", "summary": "on postgres"}).status_code == 202
    assert pg_rows(url, "SELECT key, kind FROM events") == [("pg-1", "campaign_failure")]
    wait_until(lambda: pg_rows(url, "SELECT status FROM outbox") == [("delivered",)])
    assert bot.stdout().count("on postgres") == 1
    assert pg_rows(url, "SELECT count, closed FROM alert_groups") == [(1, 0)]
    assert not (tmp_path / "ignored.db").exists()  # SQLite is not touched
    assert bot.terminate() == 0
    logs = bot.stderr() + bot.stdout()
    assert PASSWORD not in logs
    lines = [json.loads(line) for line in bot.stderr().splitlines() if line.startswith("{")]
    serving = [r for r in lines if r.get("msg") == "notifbot serving"]
    assert serving and serving[0]["database"] == shown(postgres_url)
    ignored = [r for r in lines if "SQLite settings, ignored" in r.get("msg", "")]
    assert ignored and "storage.path" in ignored[0]["msg"]


def test_an_unreachable_database_stops_serve_with_the_url_but_not_the_password(
    tmp_path: Path, postgres_url: str
) -> None:
    missing = with_password(postgres_url).rsplit("/", 1)[0] + "/notifbot_no_such_db"
    env = {**BotProcess(tmp_path, None).env, "NOTIFBOT_DATABASE_URL": missing}
    run = subprocess.run(
        [sys.executable, "-m", "notifbot", "serve", "--port", "0", "--log-format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "env.NOTIFBOT_DATABASE_URL: cannot connect to postgresql://postgres@" in run.stderr
    assert "notifbot_no_such_db" in run.stderr
    assert PASSWORD not in run.stderr + run.stdout
