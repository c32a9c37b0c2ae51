"""The at-risk warning says which idle times are lower bounds ("no activity since at least"), in text and render."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from notifbot.i18n import texts_for
from notifbot.kinds import describe
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.sources.marketo.at_risk import at_risk_notification
from notifbot.store.trigger_state import AtRisk

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


def at_risk(cid: int, days: int, *, at_least: bool) -> AtRisk:
    since = NOW - timedelta(days=days)
    return AtRisk(
        cid, f"Campaign {cid}", "Website", f"https://app-ab12.marketo.com/#SC{cid}A1", since, days, at_least
    )


def test_lower_bounds_are_said_to_be_lower_bounds() -> None:
    n = at_risk_notification(
        "123-ABC-456", [at_risk(1, 160, at_least=False), at_risk(2, 152, at_least=True)], NOW
    )
    assert (
        n.summary is None
    )  # intake stores numbers and dates only; the kind words them (kinds/trigger_cleanup.py)
    summary = describe(n).summary
    assert summary is not None and summary.startswith(
        "2 active trigger campaigns on 123-ABC-456 had no one qualify for 152+ days"
    )
    assert "the first is eligible from Dec 20, 2026 at the latest" in summary  # 160 days idle + 180, a date
    assert "1 of them had no activity since at least Jul 1, 2026 (as far back as notifbot looked)" in summary
    sv = describe(n, t=texts_for("sv", "Europe/Stockholm")).summary
    assert sv is not None and sv.startswith("2 aktiva triggerkampanjer på 123-ABC-456")
    assert "20 dec. 2026" in sv and "1 av dem har inte haft någon aktivitet sedan minst 1 juli 2026" in sv
    exact, bounded = n.fields["campaigns"]
    assert (exact["idle_days"], exact["idle_at_least"]) == (160, False)
    assert (bounded["idle_days"], bounded["idle_at_least"], bounded["idle_since"]) == (
        152,
        True,
        "2026-07-01",
    )
    slack = json.dumps(render_slack(n), ensure_ascii=False)
    assert "idle 160 days" in slack and "idle ≥ 152 days" in slack
    assert "Jul 1, 2026" in json.dumps(
        render_teams(n), ensure_ascii=False
    )  # the kind's summary reaches Teams
    assert "1 juli 2026" in json.dumps(render_teams(n, texts=texts_for("sv")), ensure_ascii=False)


def test_one_campaign_known_only_as_a_lower_bound() -> None:
    n = at_risk_notification("123-ABC-456", [at_risk(7, 150, at_least=True)], NOW)
    summary = describe(n).summary
    assert summary is not None and summary.startswith("1 active trigger campaign on 123-ABC-456 had no one")
    assert summary.endswith(
        "It had no activity since at least Jul 3, 2026 (as far back as notifbot looked): it may have been idle longer."
    )
