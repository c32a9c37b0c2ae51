"""Which group a notification joins at each destination: a pure function of the notification and the routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.config import ConfigError, parse_settings
from notifbot.groups import Reminder
from notifbot.metrics import Metrics
from notifbot.model import Severity
from notifbot.pipeline import Pipeline
from notifbot.routing import PROBLEM, group_id, group_key, route, targets
from notifbot.sources.events import parse_event
from notifbot.store.batch import IngestBatcher
from notifbot.store.runner import Database

NOW = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
CONFIG: dict[str, Any] = {
    "destinations": {"ops": {"type": "console"}, "crm": {"type": "console"}, "all": {"type": "console"}},
    "routes": [
        {
            "match": {"kind": "campaign_failure"},
            "to": "ops",
            "group": {"by": ["kind", "instance"], "wait": "30s", "interval": "5m", "repeat": "4h"},
            "remind": {"after": "4h", "mention": "<!here>"},
            "continue": True,
        },
        {"match": {"kind": "crm_sync"}, "to": "crm", "digest": {"every": "24h", "at": "08:00"}},
        {"match": {"kind": "audit"}, "to": "all", "group": False},
        {"to": ["all", "ops"]},
    ],
}


def event(**kw: Any) -> Any:
    return parse_event({"kind": "campaign_failure", "instance": "123-ABC-456", **kw}, now=NOW)


def plan(n: Any, window: timedelta = WINDOW) -> Any:
    return targets(n, parse_settings(CONFIG, source="t").routes, window)


def test_targets_follow_route_order_with_each_route_s_way() -> None:
    ops, everyone = plan(event(fields={"campaign_id": 7}))
    assert (ops.destination, everyone.destination) == ("ops", "all")
    assert (
        ops.group is not None
        and ops.group.by == ("kind", "instance")
        and ops.group.wait == timedelta(seconds=30)
    )
    assert ops.remind is not None and ops.remind.mention == "<!here>"
    assert everyone.group is not None and everyone.group.by == (PROBLEM,)  # the default repeat grouping
    assert (everyone.group.wait, everyone.group.repeat, everyone.remind) == (timedelta(0), WINDOW, None)


def test_digest_off_and_no_window_mean_no_group() -> None:
    (crm,) = plan(parse_event({"kind": "crm_sync", "fields": {"crm": "dynamics"}}, now=NOW))
    assert crm.group is None and crm.digest is not None and crm.digest.at.hour == 8
    (audit,) = plan(parse_event({"kind": "audit"}, now=NOW))
    assert audit.group is None and audit.digest is None
    assert all(t.group is None for t in plan(parse_event({"kind": "web_services"}, now=NOW), timedelta(0)))


def test_targets_reach_what_route_reaches() -> None:
    settings = parse_settings(CONFIG, source="t")
    for kind in ("campaign_failure", "crm_sync", "audit", "web_services", "no_such_kind"):
        n = parse_event({"kind": kind}, now=NOW)
        assert [t.destination for t in targets(n, settings.routes, WINDOW)] == route(n, settings.routes)


def test_group_key_names_the_values_and_quotes_odd_ones() -> None:
    n = event(fields={"campaign_id": 7, "campaign_name": "Q4 launch"}, labels={"team": "emea"})
    assert group_key(n, ["kind", "instance"]) == "kind=campaign_failure instance=123-ABC-456"
    assert group_key(n, ["campaign_name", "team", "nope"]) == 'campaign_name="Q4 launch" team=emea nope=-'
    assert (
        group_key(n, [PROBLEM])
        == 'kind=campaign_failure instance=123-ABC-456 campaign_id=7 campaign_name="Q4 launch"'
    )


def test_the_problem_key_ignores_time_and_non_salient_fields() -> None:
    a = event(fields={"campaign_id": 7, "error": "boom", "lead_id": 1}, occurred_at="2026-11-30T10:00:00Z")
    b = event(fields={"campaign_id": 7, "error": "boom", "lead_id": 2})
    c = event(fields={"campaign_id": 8, "error": "boom"})
    assert group_key(a, [PROBLEM]) == group_key(b, [PROBLEM]) != group_key(c, [PROBLEM])


@given(st.text(max_size=40), st.text(max_size=40))
def test_keys_of_different_values_never_collide(x: str, y: str) -> None:
    kx = group_key(event(fields={"campaign_name": x}), ["campaign_name"])
    ky = group_key(event(fields={"campaign_name": y}), ["campaign_name"])
    assert (kx == ky) == (x == y)
    assert kx != group_key(event(), ["campaign_name"])  # a missing value is not any text
    assert group_id("ops", kx) != group_id("crm", kx)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"group": {"wait": "2h"}}, "routes[0].group: Value error, wait must be between 0s and 1h"),
        ({"group": {"interval": "10m", "repeat": "5m"}}, "repeat (at least the interval)"),
        ({"group": {"by": ["kind", "kind"]}}, "a key is listed twice"),
        ({"group": {"wait": "soon"}}, "'soon' is not a duration"),
        ({"digest": {"every": "5h"}}, "whole hours dividing a day"),
        ({"digest": {"at": "25:00"}}, "is not a time of day"),
        ({"digest": {"timezone": "Mars/Base"}}, "is not an IANA time zone"),
        ({"group": {}, "digest": {}}, "either groups (group) or digests (digest)"),
        ({"digest": {}, "remind": {"after": "4h"}}, "remind needs group"),
        ({"remind": {"after": "4h", "mention": "hi <!here>"}}, "use a Slack mention"),
        ({"remind": {"after": "10s"}}, "after must be between 1m"),
    ],
)
def test_bad_grouping_config_says_what_to_write(route: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"routes": [{"to": "console", **route}]}, source="t")
    assert message in str(caught.value) and "literal" not in str(caught.value)


def test_yaml_sexagesimal_time_and_group_true_are_understood() -> None:
    settings = parse_settings(
        {"routes": [{"to": "console", "digest": {"at": 480}}, {"to": "console", "group": True}]}, source="t"
    )
    assert settings.routes[0].digest is not None and f"{settings.routes[0].digest.at:%H:%M}" == "08:00"
    assert settings.routes[1].group and settings.routes[1].group.by == ["kind", "instance"]
    assert parse_settings({"delivery": {"repeat_window": 0}}, source="t").delivery.repeat_window == timedelta(
        0
    )


def test_the_pipeline_gives_each_stored_target_its_group_with_the_route_s_reminder(tmp_path: Path) -> None:
    settings = parse_settings(CONFIG, source="t")
    db = Database(tmp_path / "n.db")
    try:
        pipeline = Pipeline(settings, IngestBatcher(db), Metrics(), lambda _: None)
        ops, everyone = pipeline.targets_for(event(fields={"campaign_id": 7}))
    finally:
        db.close()
    assert ops.group is not None and ops.group.key == "kind=campaign_failure instance=123-ABC-456"
    assert ops.group.remind == Reminder(timedelta(hours=4), 3, Severity.CRITICAL, "<!here>")
    assert ops.group.key_id == group_id("ops", ops.group.key) and ops.group.can_edit
    assert (
        everyone.group is not None and everyone.group.remind is None
    )  # the default grouping has no reminders
