"""`help`, `recent`, `routes`, `status` and the never-raise guarantee, against a real temporary database."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from notifbot.commands import core, handlers
from notifbot.commands.model import Invocation
from notifbot.store.runner import Database
from tests.unit.commands.conftest import NOW, Harness, make_harness, settings


async def test_help_card(bot: Harness) -> None:
    reply = await bot.ask("help")
    assert reply.ok and reply.title == "/marketo — Marketo notifications"
    usage = [i.text for i in reply.sections[0].items]
    assert usage[:3] == [
        "/marketo help",
        "/marketo quota [--share]",
        "/marketo stale-triggers [days] [--share]",
    ]
    assert all(i.detail for i in reply.sections[0].items) and len(usage) == 9
    assert "crm_sync" in (reply.sections[1].text or "") and "30 days" in (reply.sections[1].text or "")


async def test_unknown_input_and_bad_arguments_answer_with_help(bot: Harness) -> None:
    reply = await bot.ask("frobnicate now")
    assert not reply.ok and reply.visibility == "ephemeral"
    assert reply.sections[0].text == "Sorry, unknown command 'frobnicate'."
    assert "stale-triggers" in await bot.text("frobnicate")
    bad = await bot.ask("mute crm_sync 45d")
    assert bad.sections[0].text == "Sorry, a mute lasts at most 30 days."
    assert bot.mute_changes == 0


async def test_recent_without_data(bot: Harness) -> None:
    reply = await bot.ask("recent")
    assert (
        reply.ok
        and reply.sections[0].text is not None
        and "No notifications stored yet." in reply.sections[0].text
    )
    assert (await bot.ask("recent audit")).sections[0].text == "No audit notifications stored yet."


async def test_recent_statuses_links_and_limits(bot: Harness) -> None:
    delivered = await bot.notify(
        "campaign_failure",
        {"campaign_name": "Q4 Webinar", "url": "https://app-ab12.marketo.com/#SC1A1"},
        "e-1",
        instance="123-ABC-456",
    )
    dead = await bot.notify(
        "crm_sync",
        {
            "crm": "salesforce",
            "problem": "expired_credentials",
            "errors_url": "https://app-ab12.marketo.com/errors",
        },
        "e-2",
    )
    acked = await bot.notify("facebook", {"reason": "app_removed", "url": "http://insecure.example"}, "e-3")
    await bot.notify("audit", {"user_id": "ana@example.com", "action": "approved"}, "e-4")
    await bot.sql(
        "UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE event_id = ?",
        (NOW.timestamp(), delivered),
        (NOW.timestamp(), acked),
    )
    await bot.sql(
        "UPDATE outbox SET status = 'dead', last_error = 'channel_not_found' WHERE event_id = ?", (dead,)
    )
    await bot.sql(
        "UPDATE outbox SET acked_by = 'U0BOB', acked_at = ? WHERE event_id = ?", (NOW.timestamp(), acked)
    )

    reply = await bot.ask("recent")
    [section] = reply.sections
    assert section.text == "The latest 4 notifications of 4 stored, newest first."
    audit, facebook, crm, campaign = section.items
    assert audit.text.startswith("Audit: ana@example.com") and (audit.detail or "").startswith(
        "pending · audit"
    )
    assert facebook.url is None  # http links are never offered
    assert (facebook.detail or "").startswith(
        "acknowledged by U0BOB · Nov 30, 2026 19:00 UTC (Nov 30, 1:00 PM CT)"
    )
    assert crm.url == "https://app-ab12.marketo.com/errors" and (crm.detail or "").startswith(
        "dead · crm_sync"
    )
    assert (
        campaign.text == "Campaign failed: Q4 Webinar"
        and campaign.url == "https://app-ab12.marketo.com/#SC1A1"
    )
    assert (
        campaign.detail
        == "delivered · campaign_failure · 123-ABC-456 · Nov 30, 2026 19:00 UTC (Nov 30, 1:00 PM CT)"
    )

    narrowed = await bot.ask("recent crm_sync 5")
    assert [i.text for i in narrowed.sections[0].items] == [crm.text]
    assert narrowed.title == "Recent crm_sync notifications"
    assert narrowed.sections[0].text == "The latest 1 crm_sync notification of 1 stored, newest first."
    assert len((await bot.ask("recent 2")).sections[0].items) == 2


async def test_recent_caps_at_fifty_and_other_kinds(bot: Harness) -> None:
    for i in range(60):
        await bot.notify("program_approval", {"program": f"P{i}"}, f"o-{i}")
    reply = await bot.ask("recent other 500")
    items = reply.sections[0].items
    assert len(items) == 50 and items[0].text == "Marketo notification: program_approval"
    assert "program_approval" in (items[0].detail or "")
    assert reply.sections[0].text == "The latest 50 other notifications of 60 stored, newest first."


async def test_routes(tmp_path: Path) -> None:
    s = settings(
        destinations={
            "ops": {"type": "slack", "channel": "C0123ABCD"},
            "flow": {"type": "teams_workflow", "url": "https://secret.example/hook?sig=abc"},
            "log": {"type": "console"},
        },
        routes=[
            {
                "match": {"kind": "crm_sync", "crm": ["salesforce", "dynamics"]},
                "to": ["flow", "ops"],
                "continue": True,
            },
            {"match": {"severity": "critical"}, "to": "ops"},
            {"to": ["log"]},
        ],
    )
    db = Database(tmp_path / "n.db")
    try:
        reply = await make_harness(db, s).ask("routes")
    finally:
        db.close()
    first, second, last = reply.sections[0].items
    assert first.text == (
        "1. kind = crm_sync, crm = salesforce or dynamics → flow (Teams workflow webhook), ops (Slack channel C0123ABCD)"
    )
    assert first.detail == "continue: later routes are checked too"
    assert (
        second.text == "2. severity = critical → ops (Slack channel C0123ABCD)"
        and second.detail == "stops here"
    )
    assert last.text == "3. everything else → log (console, text)"
    assert "secret.example" not in str(reply)
    assert "test.yaml" in (reply.sections[0].text or "")


async def test_status_without_data(bot: Harness, polled: Harness) -> None:
    reply = await bot.ask("status")
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts["Version"] == "9.9.9"
    assert facts["Uptime"] == "2 d (since Nov 28, 2026 19:00 UTC (Nov 28, 1:00 PM CT))"
    assert (facts["Notifications stored"], facts["Outbox pending"], facts["Dead deliveries"]) == (
        "0",
        "0",
        "0",
    )
    assert facts["Last delivery"] == "none yet"
    assert reply.sections[1].text == "No Marketo instances configured (`marketo.instances`)."
    waiting = (await polled.ask("status")).sections[1].items
    assert [(i.text, i.detail) for i in waiting] == [
        ("123-ABC-456 · API budget", "500 calls a day; waiting for the first poll")
    ]


async def test_status_with_data(polled: Harness) -> None:
    for i in range(3):
        await polled.notify("audit", {"action": f"a{i}"}, f"s-{i}")
    await polled.sql("UPDATE outbox SET status = 'dead' WHERE event_id = 1")
    await polled.sql(
        "UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE event_id = 2",
        (NOW.timestamp() - 120,),
    )
    await polled.sql(
        "INSERT INTO poller_state (instance, poller, last_success_at, last_error, last_error_at, day, calls_today)"
        " VALUES (?,?,?,?,?,?,?)",
        (
            "123-ABC-456",
            "usage",
            NOW.timestamp() - 300,
            "606 rate limit",
            NOW.timestamp() - 60,
            "2026-11-30",
            42,
        ),
        ("123-ABC-456", "campaigns", NOW.timestamp() - 600, "old error", NOW.timestamp() - 6000, None, 0),
    )
    await polled.ask("mute audit 1h")
    reply = await polled.ask("status --share")
    assert reply.visibility == "in_channel"
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts["Notifications stored"] == "3" and facts["Outbox pending"] == "1"
    assert facts["Dead deliveries"] == "1 — inspect with `notifbot outbox list`"
    assert facts["Last delivery"] == "Nov 30, 2026 18:58 UTC (Nov 30, 12:58 PM CT)"
    assert facts["Mutes in force"] == "1"
    budget, campaigns, usage = reply.sections[1].items
    assert (budget.text, budget.detail) == (
        "123-ABC-456 · API budget",
        "42 of 500 calls used today (US Central day): usage 42",
    )
    assert campaigns.text == "123-ABC-456 · campaigns" and "old error" not in (campaigns.detail or "")
    assert usage.detail == (
        "last success Nov 30, 2026 18:55 UTC (Nov 30, 12:55 PM CT) · 42 API calls today"
        " · last error Nov 30, 2026 18:59 UTC (Nov 30, 12:59 PM CT): 606 rate limit"
    )
    # the worker's in-memory time wins when it has one
    polled.ctx.last_delivery_at = lambda: (NOW - timedelta(seconds=5)).timestamp()
    facts = {f.label: f.value for f in (await polled.ask("status")).sections[0].facts}
    assert facts["Last delivery"].startswith("Nov 30, 2026 18:59 UTC")


async def test_unexpected_errors_become_a_polite_reply(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(*args: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(handlers, "status_reply", boom)
    with caplog.at_level(logging.ERROR, logger="notifbot.commands"):
        reply = await core.handle(Invocation(text="status", user_id="U1"), bot.ctx)
    assert not reply.ok and "the error was logged" in (reply.sections[0].text or "")
    assert "disk on fire" not in str(reply)
    assert any("disk on fire" in (r.exc_text or "") or r.exc_info for r in caplog.records)
