"""The model: kinds, default severities, dedupe keys."""

from __future__ import annotations

from datetime import UTC, datetime

from notifbot.model import DEFAULT_SEVERITY, Kind, Severity, dedupe_key, default_severity
from notifbot.sources.events import parse_event

T = datetime(2026, 11, 28, 10, tzinfo=UTC)


def test_every_kind_has_a_default_severity() -> None:
    assert set(DEFAULT_SEVERITY) == set(Kind)
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
