"""A digest's message: its period in the configured zone, the mix, the first items, within Slack's and Teams' limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from notifbot.delivery.digest_flush import summary, view_of
from notifbot.digests import Period
from notifbot.model import Severity
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.store.digests import DigestContent
from tests.unit.render.helpers import all_text, note
from tests.unit.render.teams_helpers import assert_valid_card

START = datetime(2026, 3, 28, 7, 0, tzinfo=UTC)  # 08:00 CET
END = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST: the 23-hour period over the DST change


def content(count: int, label: str = "kind=crm_sync") -> DigestContent:
    head = [
        note("crm_sync", {"crm": "dynamics"}, summary=f"Lead <{i}> *failed*") for i in range(min(count, 10))
    ]
    return DigestContent(
        digest_id=1,
        label=label,
        timezone="Europe/Stockholm",
        period=Period(START, END),
        count=count,
        first=head[0],
        severity=Severity.WARNING,
        last_seen=END.timestamp() - 5,
        head=head,
        breakdown=[("crm_sync", "123-ABC-456", count - 3), ("campaign_failure", None, 3)],
    )


def test_the_summary_names_the_period_in_local_time_and_the_mix() -> None:
    assert summary(content(300)) == (
        "digest kind=crm_sync · Mar 28 8:00 – Mar 29 8:00 Europe/Stockholm"
        " · 297 crm_sync on 123-ABC-456, 3 campaign_failure"
    )


def test_300_events_fit_one_slack_message_listing_the_first_ten_escaped() -> None:
    view = view_of(content(300, label="kind=<!channel>"))
    message = render_slack(view.first, group=view)
    text = all_text(message)
    assert not slack_limit_problems(message)
    assert "*300 events*" in text and "… and 290 more" in text and "listed in the thread" not in text
    assert "Lead &lt;0&gt;" in text and "Lead &lt;9&gt;" in text and "Lead &lt;10&gt;" not in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_300_events_fit_one_teams_card() -> None:
    view = view_of(content(300))
    card = render_teams(view.first, group=view)
    assert_valid_card(card)
    body = json.dumps(card)
    assert len(body.encode()) < 28_000
    assert "300 events" in body and "Mar 28 8:00" in body and "and 290 more" in body
    assert "listed in the thread" not in body


def test_the_summary_and_the_message_in_swedish() -> None:
    from notifbot.i18n import texts_for

    sv = texts_for("sv", "Europe/Stockholm")
    assert summary(content(300), sv) == (
        "sammanfattning kind=crm_sync · 28 mars 08:00 – 29 mars 08:00 Europe/Stockholm"
        " · 297 crm_sync på 123-ABC-456, 3 campaign_failure"
    )
    view = view_of(content(300), sv)
    message = render_slack(view.first, group=view, texts=sv)
    text = all_text(message)
    assert not slack_limit_problems(message)
    assert "*300 händelser*" in text and "… och 290 till" in text and "tråden" not in text
    assert_valid_card(render_teams(view.first, group=view, texts=sv))
