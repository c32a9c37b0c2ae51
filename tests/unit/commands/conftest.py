"""A command context over a real temporary SQLite database, with a settable clock and admin list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands.core import handle
from notifbot.commands.model import CommandContext, Invocation
from notifbot.config import Settings, parse_settings
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack_reply import render_reply
from notifbot.replies import Reply
from notifbot.sources.events import parse_event
from notifbot.store.events import Target, insert_notifications
from notifbot.store.runner import Database

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 1:00 PM US Central (CST, UTC-6)
OPS = Target("ops", "slack", "C1")


@dataclass
class Harness:
    """The context plus the knobs tests turn: the clock, who is admin, how often mutes changed."""

    ctx: CommandContext
    db: Database
    now: datetime = NOW
    admins: set[str] = field(default_factory=lambda: {"U0ADMIN"})
    mute_changes: int = 0

    async def ask(self, text: str, user: str = "U0ADMIN", name: str | None = "ana") -> Reply:
        reply = await handle(Invocation(text=text, user_id=user, user_name=name), self.ctx)
        assert slack_limit_problems(render_reply(reply)) == [], text
        return reply

    async def text(self, command: str, user: str = "U0ADMIN") -> str:
        """Everything the rendered Slack message says (escaped as Slack receives it)."""
        return json.dumps(render_reply(await self.ask(command, user)), ensure_ascii=False)

    async def sql(self, statement: str, *rows: tuple[Any, ...]) -> None:
        def run(conn: Any) -> None:
            conn.executemany(statement, rows or [()])

        await self.db.call(run)

    async def notify(
        self, kind: str, fields: Mapping[str, Any], key: str, *, muted_by: int | None = None, **extra: Any
    ) -> int:
        occurred_at = extra.pop("occurred_at", None)
        n = parse_event({"kind": kind, "id": key, "fields": dict(fields), **extra}, now=self.now)
        if (
            occurred_at is not None
        ):  # stored as given: rows from older releases or other sources bypass the parser
            n = replace(n, occurred_at=datetime.fromisoformat(occurred_at))
        muted = {key: muted_by} if muted_by is not None else None
        [accepted] = await self.db.call(insert_notifications, [(n, [OPS])], muted)
        return accepted.event_id


def settings(**data: Any) -> Settings:
    base: dict[str, Any] = {
        "destinations": {"ops": {"type": "slack", "channel": "C0123ABCD"}, "log": {"type": "console"}},
        "routes": [{"to": ["ops"]}],
    }
    return parse_settings({**base, **data}, source="test.yaml")


def make_harness(db: Database, s: Settings) -> Harness:
    h: Harness

    async def is_admin(user: str) -> bool:
        return user in h.admins

    async def changed() -> None:
        h.mute_changes += 1

    ctx = CommandContext(
        db=db,
        settings=s,
        version="9.9.9",
        started_at=datetime(2026, 11, 28, 19, 0, tzinfo=UTC),
        clock=lambda: h.now,
        is_admin=is_admin,
        on_mutes_changed=changed,
    )
    h = Harness(ctx, db)
    return h


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    db = Database(tmp_path / "n.db")
    yield make_harness(db, settings())
    db.close()


@pytest.fixture
async def polled(tmp_path: Path) -> AsyncIterator[Harness]:
    """Like `bot`, with one Marketo instance configured."""
    db = Database(tmp_path / "n.db")
    yield make_harness(
        db,
        settings(
            marketo={
                "instances": [{"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "secret"}]
            }
        ),
    )
    db.close()
