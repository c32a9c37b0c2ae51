"""`mute`, `unmute`, `mutes`: admin-only changes, expiry by the clock, muted events listed by `recent`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notifbot.model import Notification
from notifbot.sources.events import parse_event
from notifbot.store.mutes import active_mutes
from tests.unit.commands.conftest import Harness


async def test_non_admin_is_denied_and_nothing_changes(bot: Harness) -> None:
    bot.ctx.settings.slack.admins = ["U0ADMIN", "S0OPS"]
    for command in ("mute crm_sync 1h", "unmute crm_sync"):
        reply = await bot.ask(command, user="U0OTHER")
        assert not reply.ok
        text = reply.sections[0].text or ""
        assert "Only notifbot admins (`slack.admins`) can" in text and "ask an admin" in text
        assert "U0ADMIN, S0OPS" in text
    assert await bot.db.call(active_mutes, bot.now) == [] and bot.mute_changes == 0
    # read-only commands stay open
    assert (await bot.ask("mutes", user="U0OTHER")).ok and (await bot.ask("status", user="U0OTHER")).ok


async def test_mute_then_mutes_lists_it_then_unmute_ends_it(bot: Harness) -> None:
    reply = await bot.ask('mute crm_sync 2h --reason "sync user rotation"')
    assert reply.ok and reply.title == "Muted crm_sync for 2 h"
    text = reply.sections[0].text or ""
    assert "Until Nov 30, 2026 21:00 UTC (Nov 30, 3:00 PM CT), new crm_sync notifications are stored" in text
    assert "`/marketo recent`" in text and "`/marketo unmute crm_sync`" in text
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts == {
        "Kind": "crm_sync",
        "Until": "Nov 30, 2026 21:00 UTC (Nov 30, 3:00 PM CT)",
        "Muted by": "U0ADMIN (ana)",
        "Reason": "sync user rotation",
    }
    assert bot.mute_changes == 1
    [stored] = await bot.db.call(active_mutes, bot.now)
    assert (stored.kind, stored.author, stored.reason) == ("crm_sync", "U0ADMIN (ana)", "sync user rotation")

    bot.now += timedelta(minutes=30)
    listing = await bot.ask("mutes")
    assert listing.title == "Mutes in force (1)"
    [item] = listing.sections[0].items
    assert item.text == "crm_sync — until Nov 30, 2026 21:00 UTC (Nov 30, 3:00 PM CT)"
    assert item.detail == "1 h 30 min left · by U0ADMIN (ana) · sync user rotation"

    unmuted = await bot.ask("unmute crm_sync")
    assert unmuted.title == "Unmuted crm_sync"
    assert unmuted.sections[0].text == "Ended 1 mute; new crm_sync notifications are posted again."
    assert bot.mute_changes == 2
    assert (await bot.ask("mutes")).title == "No mutes in force"
    again = await bot.ask("unmute crm_sync")
    assert again.ok and again.title == "crm_sync was not muted"
    assert again.sections[0].text == "No active mute for crm_sync. Nothing is muted."


async def test_mute_expires_by_itself(bot: Harness) -> None:
    await bot.ask("mute audit 1h")
    bot.now += timedelta(minutes=59)
    assert "audit" in await bot.text("mutes")
    bot.now += timedelta(minutes=2)  # past `until`
    reply = await bot.ask("mutes")
    assert reply.title == "No mutes in force"
    assert "audit" not in (await bot.text("mutes"))
    assert (await bot.ask("unmute audit")).title == "audit was not muted"


async def test_muting_again_replaces_and_all_is_mentioned_on_unmute(bot: Harness) -> None:
    await bot.ask("mute engagement 1h")
    second = await bot.ask("mute engagement 1d")
    assert "This replaces the earlier mute that ran until Nov 30, 2026 20:00 UTC" in (
        second.sections[0].text or ""
    )
    assert len(await bot.db.call(active_mutes, bot.now)) == 1
    everything = await bot.ask("mute all 3h")
    assert "every kind of notification" in (everything.sections[0].text or "")
    reply = await bot.ask("unmute engagement")
    assert "Everything is still muted (`all`) until Nov 30, 2026 22:00 UTC" in (reply.sections[0].text or "")
    none = await bot.ask("unmute audit")
    assert "Muted now: all (until Nov 30, 2026 22:00 UTC" in (none.sections[0].text or "")
    assert everything.title == "Muted all notifications for 3 h"
    await bot.ask("mute audit 1h")
    lifted = await bot.ask("unmute all")
    assert lifted.sections[0].text == (
        "Ended 1 mute; new notifications are posted again.\n"
        "Still muted: audit (until Nov 30, 2026 20:00 UTC (Nov 30, 2:00 PM CT))."
    )


async def test_recent_shows_muted_notifications(bot: Harness) -> None:
    await bot.ask("mute crm_sync 2h --reason rotation")
    [mute] = await bot.db.call(active_mutes, bot.now)
    await bot.notify(
        "crm_sync", {"crm": "salesforce", "problem": "expired_credentials"}, "m-1", muted_by=mute.id
    )
    await bot.notify("engagement", {"program_name": "Nurture"}, "loud-1")
    [section] = (await bot.ask("recent")).sections
    loud, muted = section.items
    assert muted.text == "Salesforce sync failing: expired credentials"
    assert (muted.detail or "").startswith("muted (crm_sync mute by U0ADMIN (ana)) · crm_sync · ")
    assert (loud.detail or "").startswith("pending · engagement · ")


async def test_mute_author_without_a_name(bot: Harness) -> None:
    reply = await bot.ask("mute audit 10m", name=None)
    assert {f.label: f.value for f in reply.sections[0].facts}["Muted by"] == "U0ADMIN"
    assert reply.title == "Muted audit for 10 min"
    assert datetime(2026, 11, 30, 19, 10, tzinfo=UTC) == (await bot.db.call(active_mutes, bot.now))[0].until


async def test_a_scoped_mute_is_stored_listed_and_covers_only_what_it_matches(bot: Harness) -> None:
    reply = await bot.ask(
        'mute kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" 4h --reason "CRM outage"'
    )
    assert reply.title == 'Muted kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" for 4 h'
    [mute] = await bot.db.call(active_mutes, bot.now)
    assert (
        mute.matchers == (("instance", "123-ABC-456"), ("campaign_name", "Q4 *"))
        and mute.reason == "CRM outage"
    )

    def n(**kw: Any) -> Notification:
        event = {
            "kind": "crm_sync",
            "instance": "123-ABC-456",
            "fields": {"campaign_name": "Q4 Launch"},
            **kw,
        }
        return parse_event(event, now=bot.now)

    assert mute.covers(n(), bot.now)
    assert mute.covers(n(fields={"campaign_name": "q4 webinar"}), bot.now)  # case-insensitive
    assert not mute.covers(n(fields={"campaign_name": "Q3 Launch"}), bot.now)
    assert not mute.covers(n(instance="999-XYZ-999"), bot.now)
    assert not mute.covers(n(kind="campaign_failure"), bot.now)
    assert not mute.covers(n(), bot.now + timedelta(hours=5))  # expired
    listed = await bot.ask("mutes")
    assert (
        listed.sections[0]
        .items[0]
        .text.startswith('kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" — until')
    )
    # a second scoped mute of the same kind stands beside it; the same scope again replaces it
    await bot.ask("mute kind=crm_sync instance=999-XYZ-999 1h")
    await bot.ask('mute kind=crm_sync instance=123-ABC-456 campaign_name="Q4 *" 1h')
    assert len(await bot.db.call(active_mutes, bot.now)) == 2


async def test_a_scoped_mute_says_its_exact_undo_and_that_undo_ends_only_it(bot: Harness) -> None:
    typed = r'mute kind=campaign_failure campaign_name="Q4 Webinar Invites" error="asset \"Invite 1\" not approved" 4h'
    reply = await bot.ask(typed)
    scope = (
        r'kind=campaign_failure campaign_name="Q4 Webinar Invites" error="asset \"Invite 1\" not approved"'
    )
    assert reply.title == f"Muted {scope} for 4 h"
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts["Only"] == r'campaign_name="Q4 Webinar Invites" error="asset \"Invite 1\" not approved"'
    text = reply.sections[0].text or ""
    assert f"end the mute early with `/marketo unmute {scope}`" in text
    [mute] = await bot.db.call(active_mutes, bot.now)
    assert mute.matchers == (
        ("campaign_name", "Q4 Webinar Invites"),
        ("error", 'asset "Invite 1" not approved'),
    )
    await bot.ask("mute kind=campaign_failure campaign_name=Q3 4h")  # another scope of the same kind stays
    listing = await bot.ask("mutes")
    assert [i.text.split(" — ")[0] for i in listing.sections[0].items] == [
        scope,
        "kind=campaign_failure campaign_name=Q3",
    ]
    assert f"e.g. `/marketo unmute {scope}`" in (listing.footer or "")

    undone = await bot.ask(f"unmute {scope}")
    assert undone.title == f"Unmuted {scope}"
    assert undone.sections[0].text == f"Ended 1 mute; new notifications matching {scope} are posted again."
    [left] = await bot.db.call(active_mutes, bot.now)
    assert left.matchers == (("campaign_name", "Q3"),)
    again = await bot.ask(f"unmute {scope}")
    assert again.title == f"{scope} was not muted"
    assert "Muted now: kind=campaign_failure campaign_name=Q3 (until" in (again.sections[0].text or "")
    # the kind alone ends every mute of that kind
    assert (await bot.ask("unmute campaign_failure")).sections[0].text == (
        "Ended 1 mute; new campaign_failure notifications are posted again."
    )


async def test_unmuting_a_scope_says_when_a_wider_mute_still_holds(bot: Harness) -> None:
    await bot.ask("mute crm_sync 2h")
    await bot.ask("mute crm_sync instance=123-ABC-456 1h")
    reply = await bot.ask("unmute crm_sync instance=123-ABC-456")
    assert reply.sections[0].text == (
        "Ended 1 mute of kind=crm_sync instance=123-ABC-456.\n"
        "Every crm_sync notification is still muted until Nov 30, 2026 21:00 UTC (Nov 30, 3:00 PM CT)."
    )
    await bot.ask("mute instance=999 1h")  # a scoped mute of every kind is not "everything"
    assert "Everything is still muted" not in (await bot.ask("unmute crm_sync")).sections[0].text
