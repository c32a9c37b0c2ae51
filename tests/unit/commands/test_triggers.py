"""`stale-triggers`: idle active trigger campaigns, most idle first, with the 6-month cleanup risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.sources.events import parse_event
from notifbot.sources.marketo.cleanup_notices import record_cleanup_notices
from notifbot.store.trigger_state import apply_cleanup_notice
from tests.unit.commands.conftest import NOW, Harness

INSERT = (
    "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
    " last_activity_at, observed_since, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"
)


def campaign(
    cid: int,
    name: str,
    last: str | None,
    since: str = "2026-01-01T00:00:00Z",
    active: int = 1,
    instance: str = "123-ABC-456",
    url: str | None = None,
) -> tuple[object, ...]:
    link = url if url is not None else f"https://app-ab12.marketo.com/#SC{cid}A1"
    return (instance, cid, name, "Website", link, active, last, since, 0)


async def test_no_data(bot: Harness, polled: Harness) -> None:
    text = await bot.text("stale-triggers")
    assert "No trigger-campaign data yet" in text and "marketo.instances" in text
    assert "waiting for the first poll" in await polled.text("stale-triggers")


async def test_most_idle_first_with_observed_since_and_cleanup_risk(bot: Harness) -> None:
    await bot.sql(
        INSERT,
        campaign(1, "Old", "2026-05-01T00:00:00Z"),  # 213 days
        campaign(2, "Never seen", None, since="2026-02-01T00:00:00Z"),  # 302 days, no activity observed
        campaign(3, "Busy", "2026-11-29T00:00:00Z"),
        campaign(4, "Inactive", "2025-01-01T00:00:00Z", active=0),
        campaign(5, "Mid", "2026-08-01T00:00:00Z", url="javascript:alert(1)"),  # 121 days
        campaign(6, "Marketo style", "2026-07-01T10:00:00Z+0000"),  # 152 days
    )
    reply = await bot.ask("stale-triggers 90")
    [section] = reply.sections
    assert [i.text for i in section.items] == ["Never seen", "Old", "Marketo style", "Mid"]
    never, old, marketo, mid = section.items
    assert never.url == "https://app-ab12.marketo.com/#SC2A1"
    assert never.detail == (
        "Website · no activity observed since Feb 1, 2026 (302 days) · at risk of Marketo's quarterly cleanup"
    )
    assert (
        old.detail
        == "Website · idle 213 days (last activity May 1, 2026) · at risk of Marketo's quarterly cleanup"
    )
    assert "at risk" in (marketo.detail or "")
    assert mid.url is None and mid.detail == "Website · idle 121 days (last activity Aug 1, 2026)"
    assert section.text == (
        "4 of 5 active trigger campaigns had no one qualify for 90+ days (most idle first)."
        " 3 are at risk of Marketo's quarterly cleanup."
    )
    assert "6 months" in (reply.footer or "")
    assert [i.text for i in (await bot.ask("stale-triggers 200")).sections[0].items] == ["Never seen", "Old"]


async def test_nothing_idle_and_share(bot: Harness) -> None:
    await bot.sql(INSERT, campaign(1, "Busy", (NOW - timedelta(days=2)).isoformat()))
    reply = await bot.ask("stale-triggers --share")
    assert reply.visibility == "in_channel"
    assert reply.sections[0].text == "None of the 1 active trigger campaign has been idle for 90+ days."


async def test_bounded_list_with_instances_named(bot: Harness) -> None:
    rows = [
        campaign(
            i,
            f"Campaign {i:03d}",
            None,
            since=f"2025-{1 + i % 12:02d}-01T00:00:00Z",
            instance=f"inst-{i % 2}",
        )
        for i in range(120)
    ]
    await bot.sql(INSERT, *rows)
    [section] = (await bot.ask("stale-triggers")).sections
    assert len(section.items) == 40 and section.more == 80
    assert (section.items[0].detail or "").startswith("inst-")
    assert "no activity observed since Jan 1, 2025" in (section.items[0].detail or "")


async def test_cleanup_dates_read_like_other_dates_and_a_passed_date_is_not_at_risk(bot: Harness) -> None:
    notice = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    await bot.db.call(
        apply_cleanup_notice,
        "123-ABC-456",
        "scheduled",
        "2026-12-05T09:00:00Z",
        [{"id": 1, "name": "Coming up", "program_name": "Website"}],
        notice,
    )
    await bot.db.call(
        apply_cleanup_notice,
        "123-ABC-456",
        "scheduled",
        "2026-11-28T09:00:00Z",
        [{"id": 2, "name": "Was due", "program_name": "Website"}, {"id": 3, "name": "Gone"}],
        notice,
    )
    await bot.db.call(
        apply_cleanup_notice, "123-ABC-456", "scheduled", "2026-11-30", [{"id": 4, "name": "Due today"}], NOW
    )
    await bot.db.call(
        apply_cleanup_notice,
        "123-ABC-456",
        "deactivated",
        "2026-11-28T09:05:00Z",
        [{"id": 3, "name": "Gone"}],
        datetime(2026, 11, 28, 9, 10, tzinfo=UTC),
    )
    reply = await bot.ask("stale-triggers")
    idle = reply.sections[0]
    details = {i.text: i.detail or "" for i in idle.items}
    assert set(details) == {"Coming up", "Was due", "Due today"}
    assert details["Coming up"].endswith("Marketo scheduled its deactivation for Dec 5, 2026")
    assert details["Due today"].endswith("Marketo scheduled its deactivation for Nov 30, 2026")
    assert details["Was due"].endswith(
        "Marketo's cleanup was due Nov 28, 2026; no deactivation notice has named it"
    )
    assert "at risk" not in details["Was due"]
    assert idle.text == (
        "3 of 3 active trigger campaigns had no one qualify for 90+ days (most idle first)."
        " 2 are at risk of Marketo's quarterly cleanup. 1 was due for deactivation already."
    )
    [gone] = reply.sections[1:]
    assert gone.title == "Deactivated by Marketo's cleanup"
    assert [(i.text, i.detail) for i in gone.items] == [("Gone", "deactivated on Nov 28, 2026")]
    text = await bot.text("stale-triggers")
    assert "2026-11-28T" not in text and "2026-12-05T" not in text and "2026-11-30" not in text


async def test_a_deactivated_notice_without_a_date_is_dated_by_the_notice(bot: Harness) -> None:
    notice = parse_event(
        {
            "kind": "trigger_cleanup",
            "instance": "123-ABC-456",
            "occurred_at": "2026-11-28T16:00:00Z",
            "fields": {"stage": "deactivated", "campaigns": [{"id": 9, "name": "Old promo"}]},
        },
        now=NOW,
    )
    assert await record_cleanup_notices(bot.db, [notice]) == 1
    [section, gone] = (await bot.ask("stale-triggers")).sections
    assert section.text == "No active trigger campaigns right now."
    assert [(i.text, i.detail) for i in gone.items] == [("Old promo", "deactivated on Nov 28, 2026")]


async def test_no_activity_in_the_scanned_span_reads_as_at_least(bot: Harness) -> None:
    await bot.sql(
        "INSERT INTO trigger_campaigns (instance, campaign_id, name, is_active, observed_since, updated_at,"
        " seen_at, created_at, predates_watch) VALUES (?, ?, ?, 1, ?, 0, 0, ?, ?)",
        ("123-ABC-456", 1, "Old, quiet", "2026-11-29T19:00:00Z", "2021-05-01T00:00:00Z", 1),
        ("123-ABC-456", 2, "Young", "2026-11-29T19:00:00Z", "2026-11-20T19:00:00Z", 1),
        ("123-ABC-456", 3, "Activated since", "2026-11-29T19:00:00Z", "2021-05-01T00:00:00Z", 0),
        ("123-ABC-456", 4, "Age unknown", "2026-11-29T19:00:00Z", None, 1),
    )
    no_cursor = await bot.ask("stale-triggers 1")
    assert {i.detail for i in no_cursor.sections[0].items} == {
        "no activity observed since Nov 29, 2026 (1 day)"
    }, "no activity scan has covered anything yet: only what was observed"

    covered = '{"covered_from": "2026-07-01T19:00:00Z", "mode": "rest"}'  # 152 days ago
    await bot.sql(
        "INSERT INTO poller_state (instance, poller, cursor) VALUES (?, 'activities', ?)",
        ("123-ABC-456", covered),
    )
    [section] = (await bot.ask("stale-triggers 1")).sections
    details = {i.text: i.detail for i in section.items}
    assert details == {
        "Old, quiet": "no activity since at least Jul 1, 2026 (≥ 152 days) · at risk of Marketo's quarterly cleanup",
        "Age unknown": "no activity since at least Jul 1, 2026 (≥ 152 days) · at risk of Marketo's quarterly cleanup",
        "Young": "no activity since it was created on Nov 20, 2026 (10 days)",
        "Activated since": "no activity observed since Nov 29, 2026 (1 day)",
    }
    assert section.text is not None and " 2 are at risk" in section.text
    assert "as far back as it looked" in ((await bot.ask("stale-triggers")).footer or "")
