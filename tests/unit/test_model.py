"""The model: kinds, default severities, dedupe keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from notifbot.kinds import KINDS, dedupe_key, default_severity
from notifbot.model import Kind, Mute, Severity
from notifbot.sources.events import parse_event

T = datetime(2026, 11, 28, 10, tzinfo=UTC)


def test_every_kind_has_a_default_severity() -> None:
    assert set(KINDS) == set(Kind)
    assert Kind.parse("nope") is Kind.OTHER and Kind.parse("crm_sync") is Kind.CRM_SYNC


def test_severity_refined_by_fields() -> None:
    assert default_severity(Kind.WEB_SERVICES, {"percent": 80}) is Severity.WARNING
    assert default_severity(Kind.WEB_SERVICES, {"percent": 100}) is Severity.CRITICAL
    assert default_severity(Kind.TRIGGER_CLEANUP, {"stage": "at_risk"}) is Severity.INFO


def test_dedupe_key_is_stable_and_ignores_non_salient_fields() -> None:
    a = dedupe_key(Kind.CRM_SYNC, "1", {"crm": "salesforce", "note": "x"}, T, "crm_sync")
    b = dedupe_key(Kind.CRM_SYNC, "1", {"crm": "salesforce", "note": "y"}, T, "crm_sync")
    assert a == b and a.startswith("nb-")
    assert a != dedupe_key(Kind.CRM_SYNC, "2", {"crm": "salesforce"}, T, "crm_sync")
    assert a != dedupe_key(Kind.CRM_SYNC, "1", {"crm": "dynamics"}, T, "crm_sync")
    # the same instant in another offset is the same occurrence
    other_tz = datetime.fromisoformat("2026-11-28T04:00:00-06:00")
    assert a == dedupe_key(Kind.CRM_SYNC, "1", {"crm": "salesforce"}, other_tz, "crm_sync")


def test_given_id_wins_and_other_kinds_keep_their_name() -> None:
    n = parse_event({"kind": "ab_test", "id": "k1", "fields": {"x": 1}}, now=T)
    assert (n.key, n.kind, n.kind_label) == ("k1", Kind.OTHER, "ab_test")
    assert n.as_event_dict()["kind"] == "ab_test"


def test_lenient_numbers_from_marketo_tokens() -> None:
    n = parse_event({"kind": "engagement", "fields": {"exhausted_count": "42"}}, now=T)
    assert n.fields["exhausted_count"] == 42


@pytest.mark.parametrize(
    "fields",
    [
        {"used": 40_000, "quota": 50_000},  # 80 % without `percent` (issue #10, item 14)
        {"threshold": 80},
        {"percent": "80"},
        {"percent": 99.9, "used": 50_000, "quota": 50_000},  # a stated percent wins
    ],
)
def test_quota_below_the_limit_is_a_warning_however_it_is_stated(fields: dict[str, object]) -> None:
    assert default_severity(Kind.WEB_SERVICES, fields) is Severity.WARNING
    n = parse_event({"kind": "web_services", "fields": fields}, now=datetime(2026, 11, 28, tzinfo=UTC))
    assert n.severity is Severity.WARNING


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"used": 50_000, "quota": 50_000},
        {"used": 60_000, "quota": 50_000},
        {"used": 1, "quota": 0},
        {"percent": float("inf")},
        {"threshold": 100},
        {"used": 10**400, "quota": 3},
    ],
)
def test_quota_at_or_over_the_limit_or_unknown_is_critical(fields: dict[str, object]) -> None:
    assert default_severity(Kind.WEB_SERVICES, fields) is Severity.CRITICAL


def test_severity_priority_puts_critical_first() -> None:
    ranked = sorted(Severity, key=lambda s: s.priority, reverse=True)
    assert ranked == [Severity.CRITICAL, Severity.WARNING, Severity.INFO]


def test_a_mute_covers_its_own_values_literally_with_star_the_only_wildcard() -> None:
    error = "Invalid token [abc]? see *docs*"
    n = parse_event({"kind": "campaign_failure", "fields": {"error": error}}, now=T)
    exact = Mute(1, "campaign_failure", T + timedelta(hours=1), "U1", matchers=(("error", error),))
    assert exact.covers(n, T)  # `[abc]` and `?` are text, as the group's own key says them
    near = replace(exact, matchers=(("error", "Invalid token a? see *docs*"),))
    assert not near.covers(n, T)
    assert replace(exact, matchers=(("error", "invalid TOKEN*"),)).covers(n, T)
    assert replace(exact, kind="campaign_*", matchers=()).covers(n, T)
    assert not replace(exact, kind="campaign_?ailure", matchers=()).covers(n, T)
