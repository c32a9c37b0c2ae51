"""what_to_do: one actionable plain line per kind and CRM problem."""

from __future__ import annotations

import pytest

from notifbot.kinds import what_to_do
from notifbot.model import Kind
from tests.unit.render.helpers import note, raw_note


@pytest.mark.parametrize("kind", [k.value for k in Kind if k is not Kind.OTHER] + ["program_status"])
def test_every_kind_has_advice(kind: str) -> None:
    line = what_to_do(note(kind))
    assert line and len(line) <= 200 and "\n" not in line


def test_salesforce_problems() -> None:
    def sf(problem: str) -> str:
        return what_to_do(note("crm_sync", {"crm": "salesforce", "problem": problem}))

    assert sf("expired_credentials") == (
        "Re-authenticate the Salesforce sync user in Admin → Salesforce, then re-enable the sync."
    )
    assert "24-h API" in sf("api_limit_exceeded") and "resumes" in sf("api_limit_exceeded")
    assert "access" in sf("permissions")
    assert "turn it back on" in sf("sync_disabled")
    assert "Admin → Salesforce" in sf("something_new")


def test_dynamics_problems_point_to_the_csv() -> None:
    for problem in ("duplicate_leads", "field_length_mismatch", None):
        line = what_to_do(note("crm_sync", {"crm": "dynamics", "problem": problem}))
        assert "See the full list" in line and "30 days" in line and len(line) <= 200
    assert "duplicate" in what_to_do(note("crm_sync", {"crm": "dynamics", "problem": "duplicate_leads"}))


def test_web_services_says_what_stops_and_when_it_resets() -> None:
    full = what_to_do(note("web_services", {"percent": 100}))
    near = what_to_do(note("web_services", {"used": 45000, "quota": 50000}))
    for line in (full, near):
        assert "midnight US Central" in line and "API Call Information" in line
    assert "refused" in full and "At 100%" in near


def test_trigger_cleanup_per_stage() -> None:
    scheduled = what_to_do(
        note("trigger_cleanup", {"stage": "scheduled", "deactivate_on": "2026-12-05T00:00:00Z"})
    )
    assert "qualify" in scheduled and "reactivate" in scheduled and "Dec 5, 2026" in scheduled
    assert "6-month" in what_to_do(note("trigger_cleanup", {"stage": "at_risk"}))
    assert what_to_do(note("trigger_cleanup", {"stage": "deactivated"})).startswith("Reactivate")


def test_facebook_and_linkedin_variants_differ() -> None:
    fb = {what_to_do(note("facebook", {"reason": r})) for r in ("terms_not_accepted", "app_removed", "other")}
    li = {
        what_to_do(note("linkedin", {"operation": o}))
        for o in ("create_audience", "login", "send_leads", "x")
    }
    assert len(fb) == 3 and len(li) == 4
    assert "Terms of Service" in what_to_do(note("facebook", {"reason": "terms_not_accepted"}))


def test_odd_values_do_not_raise() -> None:
    assert what_to_do(raw_note("crm_sync", {"crm": ["x"], "problem": {"a": 1}}))
    assert what_to_do(raw_note("web_services", {"percent": "n/a", "used": object(), "quota": 0}))
    assert what_to_do(raw_note("trigger_cleanup", {"stage": 3, "deactivate_on": 12}))
