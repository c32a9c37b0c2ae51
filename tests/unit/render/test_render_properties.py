"""Property (issue #10 item 8): every notification the parser accepts renders in every format, within the limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from notifbot.commands.queries import RecentRow
from notifbot.commands.recent import _item as recent_item
from notifbot.errors import InputError
from notifbot.links import LinkPolicy
from notifbot.model import Acked, Kind, Notification
from notifbot.render.card import MAX_CARD_BYTES, card_size
from notifbot.render.console import render_console, render_console_json
from notifbot.render.slack import render_slack
from notifbot.render.slack_reply import render_reply
from notifbot.render.teams import render_teams
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Reply, Section
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import assert_valid
from tests.unit.render.teams_helpers import assert_valid_card

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)
POLICY = LinkPolicy.build(["go.acme.example"])

_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T05:59:59Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:00:00-14:00",
            "2016-09-10T23:16:19Z+0000",
            "2026-03-08T08:00:00Z",
        ]
    ),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=_OFFSETS).map(datetime.isoformat),
)
_NUMBERS = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**63, 10**18, 10**400, -(10**4299), 10**4299]),
    st.floats(allow_nan=True, allow_infinity=True),
)
_URLS = st.one_of(
    st.sampled_from(
        [
            "https://app-ab12.marketo.com/#SC1A1",
            "https://app.marketo.com@evil.example/login",
            "https://evil.example/x",
            "https://go.acme.example/lp",
            "https://experience.adobe.com/#/@acme/marketo",
            "javascript:alert(1)",
            "https://" + "a" * 3_000,
        ]
    ),
    st.text(max_size=40).map(lambda s: "https://" + s),
)
_TEXT = st.one_of(
    st.text(max_size=30), st.sampled_from(["<!channel>", "<@U1>", "&", "[x](y)", "{{DATE()}}", "x" * 12_000])
)
_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT, _TIMES, _URLS)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["name", "id", "url", "x"]), inner, max_size=4),
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(
    [
        "campaign_name", "campaign_id", "program_name", "error", "url", "user_id", "crm", "problem", "failed_leads",
        "period_start", "period_end", "errors_url", "stream_name", "exhausted_count", "reason", "audience_name",
        "stage", "deactivate_on", "operation", "attempts", "used", "quota", "percent", "threshold", "resets_at",
        "forecast", "action", "component_type", "component_id", "component_name", "leads", "campaigns",
        "top_users", "odd",
    ]
)  # fmt: skip
_CAMPAIGN = st.fixed_dictionaries(
    {},
    optional={"id": _SCALARS, "name": _TEXT, "program_name": _TEXT, "url": _URLS, "idle_days": _NUMBERS},
)
_ENVELOPE = {
    "id": st.text(min_size=1, max_size=40),
    "instance": _TEXT,
    "occurred_at": _TIMES,
    "severity": st.sampled_from(["critical", "warning", "info"]),
    "summary": _TEXT,
    "labels": st.dictionaries(st.text(max_size=10), st.text(max_size=50), max_size=3),
}
# any JSON in any field: mostly refused by the typed kinds, kept whole by `other`
_LOOSE = st.fixed_dictionaries(
    {
        "kind": st.one_of(st.sampled_from([k.value for k in Kind]), st.text(min_size=1, max_size=20)),
        "fields": st.dictionaries(_KEYS, _JSON, max_size=8),
    },
    optional=_ENVELOPE,
)
# the types each kind's schema accepts, at their edges: what reaches the typed renderers
_SHORT = st.one_of(st.text(max_size=30), st.sampled_from(["<!channel>", "&<>", "x" * 1_000]))
_COUNT = st.one_of(st.integers(min_value=0), st.sampled_from([0, 1, 2**63, 10**400, 10**4299]))
_PERCENT = st.one_of(st.floats(min_value=0, allow_infinity=True), st.sampled_from([0, 79.99, 80, 100, 1e308]))
_LEAD = st.fixed_dictionaries({}, optional={"id": _COUNT, "name": _SHORT, "email": _SHORT, "error": _TEXT})
_TYPED: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "campaign_failure": {"campaign_id": _COUNT, "campaign_name": _SHORT, "error": _TEXT, "url": _URLS},
    "campaign_abort": {"campaign_id": _SHORT, "campaign_name": _SHORT, "user_id": _SHORT, "url": _URLS},
    "crm_sync": {
        "crm": st.one_of(st.sampled_from(["salesforce", "dynamics"]), _SHORT),
        "problem": st.sampled_from(["duplicate_leads", "expired_credentials", "x"]),
        "failed_leads": _COUNT,
        "period_start": _TIMES,
        "period_end": _TIMES,
        "errors_url": _URLS,
        "url": _URLS,
        "leads": st.lists(_LEAD, max_size=60),
    },
    "engagement": {"program_name": _SHORT, "stream_name": _SHORT, "exhausted_count": _COUNT, "url": _URLS},
    "trigger_cleanup": {
        "stage": st.sampled_from(["at_risk", "scheduled", "deactivated"]),
        "deactivate_on": st.one_of(_TIMES, _SHORT),
        "campaigns": st.lists(_CAMPAIGN, max_size=60),
        "url": _URLS,
    },
    "web_services": {
        "used": _COUNT,
        "quota": _COUNT,
        "percent": _PERCENT,
        "threshold": _NUMBERS,
        "resets_at": _TIMES,
        "forecast": _TEXT,
        "top_users": st.lists(st.fixed_dictionaries({"userId": _SHORT, "count": _NUMBERS}), max_size=8),
    },
    "linkedin": {"operation": _SHORT, "attempts": _COUNT, "audience_name": _SHORT},
    "audit": {"user_id": _SHORT, "action": _SHORT, "component_id": _COUNT, "component_name": _SHORT},
}
_WELL_TYPED = st.sampled_from(sorted(_TYPED)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {"kind": st.just(kind), "fields": st.fixed_dictionaries({}, optional=_TYPED[kind])},
        optional=_ENVELOPE,
    )
)
_EVENTS = st.one_of(_WELL_TYPED, _WELL_TYPED, _LOOSE)


def _accepted(event: dict[str, Any]) -> Notification | None:
    """What the parser makes of `event` (None when it answers 400); an edge time it refuses is put back on."""
    try:
        return parse_event(event, now=NOW)
    except (InputError, ValueError, OverflowError):
        pass  # refused; ints past 4,300 digits or times that overflow are refused by the HTTP path too
    when = event.get("occurred_at")
    try:
        n = parse_event({**event, "occurred_at": None}, now=NOW)
        at = parse_event({"kind": "x", "id": "t", "occurred_at": when}, now=NOW).occurred_at
    except (InputError, ValueError, OverflowError):
        return None
    return replace(n, occurred_at=at)  # the renderers must hold up for any datetime the model can hold


@given(_EVENTS)
def test_every_accepted_notification_renders_everywhere_within_limits(event: dict[str, Any]) -> None:
    n = _accepted(event)
    if n is None:
        return
    for message in (
        render_slack(n, links=POLICY),
        render_slack(n, interactive=True, acked=Acked("U0ADMIN", n.occurred_at), links=POLICY),
    ):
        assert_valid(message)
        assert render_console(message) and json.loads(render_console_json(message)) == message
    assert_valid_card(render_teams(n, links=POLICY))  # the full 1.5 schema once per example (it is slow)
    assert_fits(render_teams(n, acked=Acked("Ada", n.occurred_at), links=POLICY))
    # the `/marketo recent` line for it, in both transports
    fields = dict(n.fields) if isinstance(n.fields, dict) else {}
    row = RecentRow(1, n.kind_label, n, fields, str(n.occurred_at), "delivered", {"delivered": 1})
    reply = Reply("Recent notifications", (Section(text="latest", items=(recent_item(row, POLICY),) * 3),))
    assert_valid(render_reply(reply, POLICY))
    assert_fits(render_teams_reply(reply, POLICY))


def assert_fits(card: dict[str, Any]) -> None:
    """Serialisable, a 1.5 card at full width, and under the size Teams accepts."""
    assert (
        card["type"] == "AdaptiveCard" and card["version"] == "1.5" and card["msteams"] == {"width": "Full"}
    )
    assert card_size(card) <= MAX_CARD_BYTES
