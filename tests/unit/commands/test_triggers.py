"""`stale-triggers`: idle active trigger campaigns, most idle first, with the 6-month cleanup risk."""

from __future__ import annotations

from datetime import timedelta

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
