"""Issue #10 item 8: edge times, huge numbers and odd types degrade the one field they are in, never the message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from notifbot.model import Acked, Kind, Notification, Severity
from notifbot.render.console import render_console
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.text import (
    as_text,
    format_count,
    format_ct,
    format_date,
    format_utc,
    format_when,
    to_number,
)
from tests.unit.render.helpers import all_text, assert_valid, raw_note
from tests.unit.render.teams_helpers import assert_valid_card

FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
# times a Notification can hold whose conversion to UTC or to US Central overflows
EDGES = {
    "year 1 UTC": FIRST,
    "year 1, 5 h UTC (before Central's first day)": FIRST + timedelta(hours=5),
    "year 1 at +14:00 (before UTC's first day)": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    "year 9999 last second UTC": LAST,
    "year 9999 at -14:00 (after UTC's last day)": datetime(
        9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))
    ),
    "naive datetime": datetime(2026, 11, 28, 10),
}


def render_all(n: Notification) -> str:
    """Every format, validated; all of their text joined."""
    slack = render_slack(n, interactive=True)
    assert_valid(slack)
    acked = render_slack(n, interactive=True, acked=Acked("U0ADMIN", n.occurred_at))
    assert_valid(acked)
    card = render_teams(n, acked=Acked("Ada", n.occurred_at))
    assert_valid_card(card)
    return "\n".join(
        [all_text(slack), all_text(acked), render_console(slack), json.dumps(card, ensure_ascii=False)]
    )


@pytest.mark.parametrize("when", EDGES.values(), ids=EDGES.keys())
def test_edge_occurred_at_renders_every_format(when: datetime) -> None:
    for kind in ("campaign_failure", "web_services", "trigger_cleanup", "mystery"):
        n = raw_note(kind, {"campaign_name": "Q4"}, occurred_at=when)
        text = render_all(n)
        assert "Traceback" not in text
        if kind == "campaign_failure":
            assert "Campaign failed: Q4" in text  # the title survives; only the time degrades


def test_year_one_shows_utc_and_says_central_time_is_unknown() -> None:
    assert format_when(FIRST) == "Jan 1, 1 00:00 UTC (US Central time out of range)"
    at_plus_14 = EDGES["year 1 at +14:00 (before UTC's first day)"]
    assert format_when(at_plus_14) == "0001-01-01T00:00:00+14:00 (out of range in UTC)"
    assert format_when(LAST) == "Dec 31, 9999 23:59 UTC (Dec 31, 5:59 PM CT)"
    after = EDGES["year 9999 at -14:00 (after UTC's last day)"]
    assert format_when(after) == "9999-12-31T23:00:00-14:00 (out of range in UTC)"
    assert format_date(FIRST) == "Jan 1, 1"


def test_quota_reset_next_to_the_end_of_time_degrades_alone() -> None:
    n = raw_note("web_services", {"used": 1, "quota": 2}, occurred_at=LAST)
    text = render_all(n)
    assert "Marketo daily API quota at 50%" in text  # not the generic fallback
    resets = raw_note("web_services", {"used": 1, "quota": 2, "resets_at": "0001-01-01T00:00:00Z"})
    assert "*Resets*\nJan 1, 1 00:00 UTC" in all_text(render_slack(resets))


def test_edge_times_inside_fields_degrade_alone() -> None:
    fields = {
        "crm": "dynamics",
        "failed_leads": 3,
        "period_start": "0001-01-01T00:00:00+14:00",
        "period_end": "9999-12-31T23:00:00-14:00",
    }
    text = render_all(raw_note("crm_sync", fields))
    assert "Microsoft Dynamics: 3 leads failed to sync" in text
    cleanup = raw_note(
        "trigger_cleanup", {"stage": "scheduled", "deactivate_on": "9999-12-31T23:00:00-14:00"}
    )
    assert "will be deactivated on Dec 31, 9999" in render_all(cleanup)


HUGE_INT = 10**5000  # beyond Python's 4300-digit str() limit
VALUES: list[Any] = [
    HUGE_INT,
    -HUGE_INT,
    10**4299,
    10**400,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e308,
    -0.0,
    [[[[[]]]]],
    {"a": {"b": [HUGE_INT]}},
    object(),
    b"bytes",
    FIRST,
    {1, 2},
    ("t", 1),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_odd_values_in_every_field_render(value: Any) -> None:
    keys = (
        "campaign_name", "campaign_id", "error", "url", "crm", "problem", "failed_leads", "period_start",
        "exhausted_count", "stream_name", "reason", "stage", "deactivate_on", "attempts", "used", "quota",
        "percent", "resets_at", "forecast", "user_id", "component_id", "threshold",
    )  # fmt: skip
    fields: dict[str, Any] = dict.fromkeys(keys, value)
    fields["campaigns"] = [
        {"name": value, "id": value, "url": value, "program_name": value, "idle_days": value}
    ]
    fields["leads"] = [{"name": value, "email": value, "error": value, "id": value}]
    fields["top_users"] = [{"userId": value, "count": value}]
    for kind in (
        "campaign_failure",
        "crm_sync",
        "engagement",
        "trigger_cleanup",
        "web_services",
        "audit",
        "x",
    ):
        n = raw_note(kind, fields, severity=Severity.INFO, summary=value, instance=value, labels={"k": value})
        render_all(n)


def test_huge_numbers_degrade_to_a_placeholder() -> None:
    assert as_text(HUGE_INT) == "(a number too large to show)"
    assert format_count(HUGE_INT) == "(a number too large to show)"
    assert to_number(HUGE_INT) is None and to_number(10**400) is None
    assert format_count(10**30) == "1,000,000,000,000,000,000,000,000,000,000"
    text = render_all(raw_note("crm_sync", {"crm": "dynamics", "failed_leads": HUGE_INT}))
    assert "Microsoft Dynamics sync problem" in text and "Failed leads: (a number too large to show)" in text
    idle = render_all(raw_note("trigger_cleanup", {"campaigns": [{"name": "C", "idle_days": HUGE_INT}]}))
    assert "• C" in idle


def test_deeply_nested_values_degrade_to_a_placeholder() -> None:
    deep: Any = []
    for _ in range(5_000):
        deep = [deep]
    assert as_text(deep) == "(a value too deeply nested to show)"
    render_all(raw_note("mystery", {"deep": deep}))


class Hostile(dict[str, Any]):
    """A campaign whose every lookup fails: stands for any failure inside one part of a message."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")


def test_a_part_that_fails_degrades_to_a_placeholder_and_the_rest_is_shown() -> None:
    n = raw_note(
        "trigger_cleanup",
        {"stage": "scheduled", "deactivate_on": "2026-12-01", "campaigns": [Hostile(), Hostile()]},
        summary="Two campaigns go idle",
    )
    slack = render_slack(n, interactive=True)
    assert_valid(slack)
    text = all_text(slack)
    assert "Cleanup scheduled: 2 idle trigger campaigns will be deactivated on Dec 1, 2026" in text
    assert (
        "Two campaigns go idle" in text and "What to do" in text and "(this part could not be shown)" in text
    )
    card = render_teams(n)
    assert_valid_card(card)
    card_text = json.dumps(card, ensure_ascii=False)
    assert "Two campaigns go idle" in card_text and "(this part could not be shown)" in card_text


def test_a_kind_label_of_another_type_still_renders() -> None:
    n = Notification(key="k", kind=Kind.OTHER, severity=Severity.INFO, occurred_at=FIRST, original_kind=7)  # type: ignore[arg-type]
    assert "Marketo notification: 7" in render_all(n)


class Unprintable:
    """A value whose own text conversion fails."""

    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_text_helpers_never_raise_at_the_edges() -> None:
    assert as_text(Unprintable()) == "(a value that cannot be shown)"
    assert as_text([Unprintable()]) == "(a value that cannot be shown)"
    assert as_text([1, [HUGE_INT]]) == "(a number too large to show)"
    assert to_number("1e999") is None and to_number(float("nan")) is None and to_number(10**308) == 1e308
    assert format_count(True) == "yes" and format_count(None) == "" and format_count(12.5) == "12.5"
    assert format_ct(FIRST) == "Jan 1, 1 00:00 UTC"  # Central time did not exist yet: shown in UTC
    assert format_ct(LAST) == "Dec 31, 5:59 PM CT"
    assert format_utc(EDGES["year 1 at +14:00 (before UTC's first day)"]) == (
        "0001-01-01T00:00:00+14:00 (out of range in UTC)"
    )
