"""The transport-neutral command core: parsing, quota forecast, stale triggers, replies within Slack limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands.handlers import handle
from notifbot.commands.model import CommandContext, Invocation, Item, Reply, Section
from notifbot.commands.parse import parse, parse_duration
from notifbot.commands.quota import forecast
from notifbot.config import Settings
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack_reply import render_reply
from notifbot.store.queries import QuotaSample
from notifbot.store.runner import Database

CT_8AM = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 08:00 US Central


def test_parse_forms_and_errors() -> None:
    assert parse("").name == "help" and parse("HELP").name == "help"
    assert parse("quota --share").share and parse("quota").name == "quota"
    assert parse("stale-triggers").number == 90 and parse("stale-triggers 30").number == 30
    assert parse("stale-triggers soon").error
    r = parse("recent crm_sync 500")
    assert (r.kind, r.number) == ("crm_sync", 50)
    m = parse("mute CRM_SYNC 1h30m  sync user rotation")
    assert (m.name, m.kind, m.duration, m.reason) == (
        "mute",
        "crm_sync",
        timedelta(minutes=90),
        "sync user rotation",
    )
    assert parse("mute crm_sync 31d").error == "a mute lasts at most 30 days"
    assert "not a duration" in (parse("mute crm_sync soon").error or "")
    assert "unknown kind" in (parse("mute nonsense 1h").error or "")
    assert parse("frobnicate").error == "unknown command 'frobnicate'"
    assert parse_duration("2w") == timedelta(weeks=2) and parse_duration("90min") == timedelta(minutes=90)
    assert parse_duration("1x") is None and parse_duration("0m") is None


def sample(at: datetime, used: int) -> QuotaSample:
    return QuotaSample("123-ABC-456", at.timestamp(), "2026-11-30", used, 50_000, [], {})


def test_burn_rate_forecast() -> None:
    # 10,000 at 08:00 CT and 30,000 at 12:00 CT: 5,000 calls/h, 20,000 left → out at 16:00 CT, 8 h before midnight
    s = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 30_000)]
    text = forecast(s) or ""
    assert "5,000 calls/h" in text and "runs out at" in text and "4:00 PM CT" in text
    assert "8 h 0 min before the reset" in text
    slow = [sample(CT_8AM, 10_000), sample(CT_8AM + timedelta(hours=4), 11_000)]
    assert "lasts until the reset" in (forecast(slow) or "")
    assert forecast(s[:1]) is None


@pytest.fixture
async def ctx(tmp_path: Path) -> Any:
    db = Database(tmp_path / "n.db")
    now = [CT_8AM + timedelta(hours=5)]

    async def admin(user: str) -> bool:
        return user == "U0ADMIN"

    async def changed() -> None:
        return None

    context = CommandContext(db, Settings(), "9.9.9", CT_8AM, lambda: now[0], admin, changed)
    yield context, now
    db.close()


async def ask(context: CommandContext, text: str, user: str = "U0ADMIN") -> Reply:
    return await handle(Invocation(text=text, user_id=user), context)


def everything(reply: Reply) -> str:
    return json.dumps(render_reply(reply))


async def test_every_command_answers_within_limits_without_data(ctx: Any) -> None:
    context, _ = ctx
    for text in ("help", "quota", "stale-triggers", "recent", "mutes", "routes", "status", "what?"):
        message = render_reply(await ask(context, text))
        assert slack_limit_problems(message) == [], text
    assert "marketo.instances" in everything(await ask(context, "quota"))
    assert "9.9.9" in everything(await ask(context, "status"))


async def test_mute_lifecycle_and_admin_only(ctx: Any) -> None:
    context, now = ctx
    denied = await ask(context, "mute crm_sync 1h", user="U0OTHER")
    assert not denied.ok and "admin" in everything(denied)
    assert (await ask(context, "mute crm_sync 1h rotation")).ok
    assert "rotation" in everything(await ask(context, "mutes"))
    now[0] += timedelta(hours=2)  # the mute has expired by itself
    assert "No mutes in force" in everything(await ask(context, "mutes"))
    await ask(context, "mute audit 1d")
    assert "Unmuted audit" in everything(await ask(context, "unmute audit"))
    assert "was not muted" in everything(await ask(context, "unmute audit"))


async def test_stale_triggers_most_idle_first_with_observed_since(ctx: Any) -> None:
    context, _ = ctx

    def seed(conn: Any) -> None:
        rows = [
            (1, "Old", "2026-05-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            (2, "Never seen", None, "2026-02-01T00:00:00Z"),
            (3, "Busy", "2026-11-29T00:00:00Z", "2026-01-01T00:00:00Z"),
        ]
        for cid, name, last, since in rows:
            conn.execute(
                "INSERT INTO trigger_campaigns VALUES ('123-ABC-456', ?, ?, 'Prog', ?, 1, ?, ?, 0)",
                (cid, name, f"https://app-ab12.marketo.com/#SC{cid}A1", last, since),
            )

    await context.db.call(seed)
    text = everything(await ask(context, "stale-triggers 90"))
    # never seen since Feb 1 is idle longer than last seen May 1
    assert text.index("Never seen") < text.index("Old") and "Busy" not in text
    assert "no activity observed since" in text and "at risk" in text


def test_replies_escape_and_truncate() -> None:
    evil = "<!channel> <https://evil|x>"
    items = tuple(Item(evil * 50, url="https://ok.example/a", detail=evil) for _ in range(500))
    reply = Reply(evil, (Section(title=evil, text=evil * 1000, items=items),), footer=evil)
    message = render_reply(reply)
    assert slack_limit_problems(message) == []
    dumped = json.dumps(message)
    assert "<!channel>" not in dumped and "<https://evil" not in dumped and "more" in dumped
    assert render_reply(Reply("t", visibility="in_channel"))["response_type"] == "in_channel"
    js = render_reply(Reply("t", (Section(items=(Item("x", url="javascript:alert(1)"),)),)))
    assert "javascript:" not in json.dumps(js["blocks"][1]).replace("x", "")
