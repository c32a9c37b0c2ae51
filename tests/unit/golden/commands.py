"""The command golden cases: every `/marketo` reply in English, from a fresh database at a fixed clock.

Each case stores what it needs through the product's own store (as tests/unit/commands does), then asks once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from notifbot.commands.args import AlertRef, Command
from notifbot.commands.core import handle, invoke
from notifbot.commands.model import Invocation
from notifbot.replies import Reply
from tests.unit.commands.conftest import NOW, Harness

MARKETO = {"instances": [{"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "secret"}]}
ROUTES: dict[str, Any] = {
    "destinations": {
        "ops": {"type": "slack", "channel": "C0123ABCD"},
        "flow": {"type": "teams_workflow", "url": "https://secret.example/hook?sig=abc"},
        "log": {"type": "console"},
    },
    "routes": [
        {
            "match": {"kind": "crm_sync", "crm": ["salesforce", "dynamics"]},
            "to": ["flow", "ops"],
            "continue": True,
        },
        {"match": {"severity": "critical"}, "to": "ops"},
        {"to": ["log"]},
    ],
}
ALERT = AlertRef("C1", "1700000000.000100")
CT_8AM = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
QUOTA_INSERT = (
    "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users, errors) VALUES (?,?,?,?,?,?,?)"
)
TRIGGER_INSERT = (
    "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
    " last_activity_at, observed_since, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"
)
USERS = json.dumps(
    [{"userId": f"user{i}@example.com", "count": 1000 * i} for i in range(1, 8)]
    + [{"userId": "bi-connector@example.com", "count": 12_000}]
)

Ask = Callable[[Harness], Awaitable[Reply]]


def asking(text: str, user: str = "U0ADMIN", transport: Literal["slack", "teams"] = "slack") -> Ask:
    """A case that only asks `text` (as `user`, on `transport`)."""

    async def ask(h: Harness) -> Reply:
        return await handle(Invocation(text, user, "ana", transport=transport), h.ctx)

    return ask


async def _quota(h: Harness) -> Reply:
    h.now = CT_8AM + timedelta(hours=4, minutes=40)
    errors = json.dumps({"606": 12, "615": 3, "1": 0})

    def row(at: datetime, used: int, users: str = "[]", errs: str = "{}") -> tuple[object, ...]:
        return ("123-ABC-456", at.timestamp(), "2026-11-30", used, 40_000, users, errs)

    await h.sql(
        QUOTA_INSERT,
        row(CT_8AM - timedelta(days=1), 39_000),
        row(CT_8AM, 10_000),
        row(CT_8AM + timedelta(hours=4), 20_000, USERS, errors),
    )
    return await h.ask("quota")


async def _quota_stale(h: Harness) -> Reply:
    await h.sql(QUOTA_INSERT, ("123-ABC-456", CT_8AM.timestamp(), "2026-11-30", 39_000, 40_000, "[]", "{}"))
    h.now = CT_8AM + timedelta(hours=17)
    return await h.ask("quota --share")


async def _mute_then(h: Harness, command: str) -> Reply:
    await h.ask('mute crm_sync 2h --reason "sync user rotation"')
    await h.ask("mute audit 1h")
    h.now += timedelta(minutes=30)
    return await h.ask(command)


async def _mute_again(h: Harness) -> Reply:
    await h.ask("mute engagement 1h")
    return await h.ask("mute engagement 1d")


async def _mutes(h: Harness) -> Reply:
    return await _mute_then(h, "mutes")


async def _unmute(h: Harness) -> Reply:
    return await _mute_then(h, "unmute crm_sync")


async def _unmute_all(h: Harness) -> Reply:
    await h.ask("mute all 3h")
    return await _mute_then(h, "unmute all")


async def _unmute_under_all(h: Harness) -> Reply:
    await h.ask("mute all 3h")
    return await h.ask("unmute audit")


async def _recent(h: Harness) -> Reply:
    delivered = await h.notify(
        "campaign_failure",
        {"campaign_name": "Q4 Webinar", "url": "https://app-ab12.marketo.com/#SC1A1"},
        "e-1",
        instance="123-ABC-456",
    )
    dead = await h.notify(
        "crm_sync",
        {
            "crm": "salesforce",
            "problem": "expired_credentials",
            "errors_url": "https://app-ab12.marketo.com/e",
        },
        "e-2",
    )
    acked = await h.notify("facebook", {"reason": "app_removed", "url": "http://insecure.example"}, "e-3")
    await h.notify("audit", {"user_id": "ana@example.com", "action": "approved"}, "e-4")
    await h.ask("mute engagement 2h --reason rotation")
    await h.notify("engagement", {"program_name": "Nurture"}, "m-1", muted_by=1)
    ts = NOW.timestamp()
    await h.sql(
        "UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE event_id = ?",
        (ts, delivered),
        (ts, acked),
    )
    await h.sql(
        "UPDATE outbox SET status = 'dead', last_error = 'channel_not_found' WHERE event_id = ?", (dead,)
    )
    await h.sql("UPDATE outbox SET acked_by = 'U0BOB', acked_at = ? WHERE event_id = ?", (ts, acked))
    return await h.ask("recent")


async def _recent_kind(h: Harness) -> Reply:
    await h.notify("crm_sync", {"crm": "salesforce", "problem": "expired_credentials"}, "e-1")
    return await h.ask("recent crm_sync 5")


async def _status(h: Harness) -> Reply:
    for i in range(3):
        await h.notify("audit", {"action": f"a{i}"}, f"s-{i}")
    ts = NOW.timestamp()
    await h.sql("UPDATE outbox SET status = 'dead' WHERE event_id = 1")
    await h.sql("UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE event_id = 2", (ts - 120,))
    await h.sql(
        "INSERT INTO poller_state (instance, poller, last_success_at, last_error, last_error_at, day, calls_today)"
        " VALUES (?,?,?,?,?,?,?)",
        ("123-ABC-456", "usage", ts - 300, "606 rate limit", ts - 60, "2026-11-30", 42),
        ("123-ABC-456", "campaigns", ts - 600, "old error", ts - 6000, None, 0),
    )
    await h.ask("mute audit 1h")
    return await h.ask("status --share")


def _campaign(
    cid: int, name: str, last: str | None, since: str = "2026-01-01T00:00:00Z", active: int = 1
) -> tuple[object, ...]:
    return (
        "123-ABC-456",
        cid,
        name,
        "Website",
        f"https://app-ab12.marketo.com/#SC{cid}A1",
        active,
        last,
        since,
        0,
    )


async def _stale(h: Harness) -> Reply:
    await h.sql(
        TRIGGER_INSERT,
        _campaign(1, "Old", "2026-05-01T00:00:00Z"),
        _campaign(2, "Never seen", None, since="2026-02-01T00:00:00Z"),
        _campaign(3, "Busy", "2026-11-29T00:00:00Z"),
        _campaign(4, "Inactive", "2025-01-01T00:00:00Z", active=0),
        _campaign(5, "Mid", "2026-08-01T00:00:00Z"),
    )
    return await h.ask("stale-triggers 90")


async def _stale_none(h: Harness) -> Reply:
    await h.sql(TRIGGER_INSERT, _campaign(1, "Busy", (NOW - timedelta(days=2)).isoformat()))
    return await h.ask("stale-triggers --share")


async def _alert(h: Harness) -> None:
    event = await h.notify("campaign_failure", {"campaign_name": "Q4"}, "ack-1")
    await h.sql(
        "UPDATE outbox SET target = ?, provider_message_id = ? WHERE event_id = ?",
        (ALERT.target, ALERT.message, event),
    )


async def _ack(h: Harness) -> Reply:
    await _alert(h)
    return await invoke(Invocation("ack", "U0ADMIN", "Ana"), Command("acknowledge", alert=ALERT), h.ctx)


async def _ack_again(h: Harness) -> Reply:
    await _ack(h)
    h.now += timedelta(minutes=3)
    return await invoke(Invocation("ack", "U0ADMIN", "Bo"), Command("acknowledge", alert=ALERT), h.ctx)


async def _ack_refused(h: Harness) -> Reply:
    await _alert(h)
    return await invoke(Invocation("ack", "U0OTHER", "Cy"), Command("acknowledge", alert=ALERT), h.ctx)


async def _ack_nothing(h: Harness) -> Reply:
    return await invoke(
        Invocation("ack", "U0ADMIN"), Command("acknowledge", alert=AlertRef("C1", "9")), h.ctx
    )


async def _refused(h: Harness) -> Reply:
    h.ctx.settings.slack.admins = ["U0ADMIN", "S0OPS"]
    return await asking("mute crm_sync 1h", user="U0OTHER")(h)


async def _broken(h: Harness) -> Reply:
    h.db.close()  # any unexpected failure in a handler: the store is gone
    return await h.ask("status")


# case name → (settings overrides, the ask); `marketo` configures one polled instance
COMMANDS: dict[str, tuple[dict[str, Any], Ask]] = {
    "help": ({}, asking("help")),
    "help.from_teams": ({}, asking("help", transport="teams")),
    "error.unknown_command": ({}, asking("frobnicate now")),
    "error.bad_argument": ({}, asking("mute crm_sync 45d")),
    "error.bad_duration": ({}, asking("mute crm_sync soon")),
    "error.unknown_option": ({}, asking("quota --verbose")),
    "error.recent_usage": ({}, asking("recent audit 5 6")),
    "error.stale_days": ({}, asking("stale-triggers 0")),
    "error.mute_open_quote": ({}, asking('mute crm_sync 2h --reason "oops')),
    "error.mute_reason_missing": ({}, asking("mute crm_sync 2h --reason")),
    "error.mute_number_without_unit": ({}, asking("mute crm_sync 30")),
    "error.mute_stray_word": ({}, asking("mute crm_sync 2h because")),
    "error.mute_what": ({}, asking("mute 2h")),
    "error.mute_how_long": ({}, asking("mute crm_sync")),
    "error.unmute_usage": ({}, asking("unmute")),
    "recent.capped": ({}, asking("recent 500")),
    "error.unknown_kind": ({}, asking("recent nosuchkind")),
    "error.mute_refused": ({}, _refused),
    "error.mute_refused_teams": ({}, asking("unmute crm_sync", user="U0OTHER", transport="teams")),
    "error.internal": ({}, _broken),
    "quota.unconfigured": ({}, asking("quota")),
    "quota.waiting": ({"marketo": MARKETO}, asking("quota")),
    "quota": ({"marketo": MARKETO}, _quota),
    "quota.stale_sample": ({"marketo": MARKETO}, _quota_stale),
    "mute": ({}, asking('mute crm_sync 2h --reason "sync user rotation"')),
    "mute.scoped": (
        {},
        asking('mute kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" 4h --reason "CRM outage"'),
    ),
    "mute.all": ({}, asking("mute all 3h")),
    "mute.replaces": ({}, _mute_again),
    "mutes": ({}, _mutes),
    "mutes.none": ({}, asking("mutes")),
    "unmute": ({}, _unmute),
    "unmute.all": ({}, _unmute_all),
    "unmute.not_muted": ({}, asking("unmute crm_sync")),
    "unmute.under_all": ({}, _unmute_under_all),
    "routes": (ROUTES, asking("routes")),
    "routes.default": ({}, asking("routes --share")),
    "status.empty": ({}, asking("status")),
    "status.waiting": ({"marketo": MARKETO}, asking("status")),
    "status": ({"marketo": MARKETO}, _status),
    "recent.empty": ({}, asking("recent")),
    "recent.empty_kind": ({}, asking("recent audit")),
    "recent": ({}, _recent),
    "recent.kind": ({}, _recent_kind),
    "stale_triggers.no_data": ({}, asking("stale-triggers")),
    "stale_triggers.waiting": ({"marketo": MARKETO}, asking("stale-triggers")),
    "stale_triggers": ({}, _stale),
    "stale_triggers.none_idle": ({}, _stale_none),
    "ack": ({}, _ack),
    "ack.already": ({}, _ack_again),
    "ack.not_an_alert": ({}, _ack_nothing),
    "ack.refused": ({}, _ack_refused),
}
