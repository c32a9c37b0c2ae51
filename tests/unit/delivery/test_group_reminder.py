"""A group's reminder in the channel's language and zone; English as it always read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.delivery.group_flush import reminder_text
from notifbot.groups import GroupView, ThreadItems
from notifbot.i18n import EN, texts_for
from notifbot.model import Severity
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack import render_slack_thread
from notifbot.render.teams import render_teams_thread
from tests.unit.render.helpers import note
from tests.unit.render.teams_helpers import assert_valid_card

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def view(count: int) -> GroupView:
    n = note("campaign_failure", {"campaign_name": "X"})
    return GroupView(n, count, T0, T0 + timedelta(minutes=42), (), Severity.CRITICAL, key="kind=x")


def test_the_english_reminder_reads_as_before() -> None:
    assert reminder_text(EN, view(1), 1, 3) == (
        "Still firing and not acknowledged: 1 event since Dec 1, 2026 09:00 UTC (Dec 1, 3:00 AM CT), "
        "the last Dec 1, 2026 09:42 UTC (Dec 1, 3:42 AM CT) (reminder 1 of 3)"
    )
    assert reminder_text(EN, view(1_200), 2, 3).startswith(
        "Still firing and not acknowledged: 1,200 events since"
    )


def test_the_swedish_reminder_follows_the_channel() -> None:
    sv = texts_for("sv", "Europe/Stockholm")
    text = reminder_text(sv, view(1_200), 2, 3)
    assert text == (
        "Larmar fortfarande och är inte kvitterat: 1\u00a0200 händelser sedan 1 dec. 2026 10:00 CET (03:00 CT), "
        "den senaste 1 dec. 2026 10:42 CET (03:42 CT) (påminnelse 2 av 3)"
    )
    reply = ThreadItems((), 1_200, 1_200, reminder=text, mention="<!here>")
    message = render_slack_thread(reply, texts=sv)
    assert not slack_limit_problems(message)
    assert message["text"].startswith("<!here> :alarm_clock: Larmar fortfarande")
    assert_valid_card(render_teams_thread(reply, texts=sv))
