"""The packaged sample events: one per kind, valid events (docs/reference.md §Event JSON)."""

from __future__ import annotations

import pytest

from notifbot.kinds import load_samples, sample_for_kind
from notifbot.model import Kind
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T

EXPECTED = {
    "ab_test_result", "audit", "campaign_abort", "campaign_failure", "crm_sync", "crm_sync_dynamics", "engagement",
    "facebook", "linkedin", "other", "trigger_cleanup", "web_services",
}  # fmt: skip


def test_samples_cover_every_kind_and_are_sorted() -> None:
    samples = load_samples()
    assert list(samples) == sorted(EXPECTED)
    kinds = {parse_event(e, now=T).kind for e in samples.values()}
    assert kinds == set(Kind)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_a_valid_event(name: str) -> None:
    event = load_samples()[name]
    n = parse_event(event, now=T)
    assert event["id"] == f"sample-{name}-1" and n.key == event["id"]
    assert n.instance == "123-ABC-456"
    assert (n.occurred_at.year, n.occurred_at.month) == (2026, 11)


def test_sample_details() -> None:
    samples = load_samples()
    assert samples["crm_sync"]["fields"]["problem"] == "expired_credentials"
    dyn = samples["crm_sync_dynamics"]["fields"]
    assert dyn["crm"] == "dynamics" and len(dyn["leads"]) == dyn["failed_leads"] == 5
    cleanup = samples["trigger_cleanup"]["fields"]
    assert cleanup["stage"] == "scheduled" and len(cleanup["campaigns"]) == 4
    assert Kind.parse(samples["other"]["kind"]) is Kind.OTHER


def test_sample_for_kind() -> None:
    assert sample_for_kind("crm_sync")["id"] == "sample-crm_sync-1"
    assert sample_for_kind("crm_sync_dynamics")["id"] == "sample-crm_sync_dynamics-1"
    assert sample_for_kind("other")["kind"] == "com.adobe.platform.marketo.observability.status"
    assert sample_for_kind("com.adobe.platform.marketo.observability.status")["id"] == "sample-other-1"
    assert sample_for_kind("ab_test_result")["id"] == "sample-ab_test_result-1"
    with pytest.raises(KeyError, match=r"known kinds.*campaign_failure"):
        sample_for_kind("nope")


def test_load_samples_returns_copies() -> None:
    load_samples()["audit"]["fields"]["user_id"] = "changed"
    assert load_samples()["audit"]["fields"]["user_id"] != "changed"
