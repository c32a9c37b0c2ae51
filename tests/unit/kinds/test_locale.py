"""The kinds speak the locale of their `Texts`: Swedish titles, labels and advice; English unchanged; resets in local time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from babel.messages.pofile import read_po

from notifbot.i18n import EN, Texts, catalogs, texts_for
from notifbot.kinds import describe, item_label, load_samples, what_to_do
from notifbot.kinds.parts import Parts
from notifbot.kinds.registry import KINDS
from notifbot.kinds.web_services import reset_text
from notifbot.model import Kind, Notification, Severity
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T

SV = texts_for("sv")
SV_STOCKHOLM = texts_for("sv", "Europe/Stockholm")


def _english_with_swedish() -> frozenset[str]:
    """Every English message (singular forms too) whose Swedish text differs from it."""
    with catalogs.po_path("sv").open("rb") as f:
        catalog = read_po(f)
    out: set[str] = set()
    for m in catalog:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        out.update(i for i, s in zip(ids, strings, strict=False) if i and s and i != s)
    return frozenset(out)


ENGLISH = _english_with_swedish()


def note(kind: Kind, **fields: Any) -> Notification:
    return Notification("k", kind, Severity.WARNING, T, instance="123-ABC-456", fields=fields)


def labels(parts: Parts) -> list[str]:
    """The short labels of a message: fact labels, the detail's label, the listing's title."""
    out = [label for label, _ in parts.facts]
    if parts.detail is not None:
        out.append(parts.detail[0])
    if parts.listing is not None:
        out.append(parts.listing.title)
    return out


# one event per branch of wording: every advice table entry, stage, reason and operation
VARIANTS: list[Notification] = [
    *(
        note(Kind.CRM_SYNC, crm="salesforce", problem=p)
        for p in ("expired_credentials", "api_limit_exceeded")
    ),
    *(note(Kind.CRM_SYNC, crm="salesforce", problem=p) for p in ("permissions", "sync_disabled", "odd")),
    *(note(Kind.CRM_SYNC, crm="dynamics", problem=p) for p in ("duplicate_leads", "field_length_mismatch")),
    *(note(Kind.CRM_SYNC, crm="dynamics", problem=p) for p in ("expired_credentials", "permissions")),
    *(note(Kind.CRM_SYNC, crm="dynamics", problem=p) for p in ("sync_disabled", "odd")),
    note(Kind.CRM_SYNC, crm="netsuite", failed_leads=1, error="x", leads=[{"id": 1}]),
    *(
        note(Kind.TRIGGER_CLEANUP, stage=s, campaigns=[{"id": 1}])
        for s in ("at_risk", "scheduled", "deactivated")
    ),
    note(Kind.TRIGGER_CLEANUP, stage="scheduled", deactivate_on="2026-12-15"),
    note(Kind.TRIGGER_CLEANUP, stage="deactivated"),
    note(Kind.TRIGGER_CLEANUP),
    *(note(Kind.FACEBOOK, reason=r) for r in ("terms_not_accepted", "app_removed", None)),
    *(note(Kind.LINKEDIN, operation=o, attempts=3) for o in ("create_audience", "login", "send_leads", None)),
    note(Kind.WEB_SERVICES, percent=80, used=40_000, quota=50_000, forecast="x", top_users=[{"userId": "a"}]),
    note(Kind.CAMPAIGN_FAILURE),
    note(Kind.CAMPAIGN_ABORT, user_id="u"),
    note(Kind.AUDIT),
    note(Kind.AB_TEST_RESULT),
    note(Kind.ENGAGEMENT),
    note(Kind.OTHER, **{f"f{i}": i for i in range(12)}),
]
SAMPLES = [parse_event(e, now=T) for e in load_samples().values()]


@pytest.mark.parametrize("t", [SV, SV_STOCKHOLM], ids=["sv", "sv-Stockholm"])
@pytest.mark.parametrize("n", SAMPLES + VARIANTS, ids=lambda n: f"{n.kind.value}-{sorted(n.fields)[:2]}")
def test_swedish_leaves_no_english_message(n: Notification, t: Texts) -> None:
    en, sv = describe(n), describe(n, t=t)
    assert sv.title != en.title
    assert what_to_do(n, t) != what_to_do(n)
    left = [label for label in labels(sv) if label in ENGLISH]
    assert left == [], f"English labels left in Swedish: {left}"
    assert what_to_do(n, t) not in ENGLISH and sv.title not in ENGLISH
    if en.summary is not None:
        assert sv.summary is not None and sv.summary != en.summary


def test_swedish_words_numbers_and_dates_its_own_way() -> None:
    n = note(
        Kind.WEB_SERVICES, percent=97.5, used=48_750, quota=50_000, top_users=[{"userId": "a", "count": 1234}]
    )
    parts = describe(n, t=SV)
    assert parts.title == "Marketos dagliga API-kvot har nått 97,5\xa0%"
    assert dict(parts.facts)["Använda API-anrop"] == "48\xa0750"
    assert dict(parts.facts)["Största API-användare"] == "a (1\xa0234)"
    assert what_to_do(n, SV).startswith("Vid 100\xa0% nekas alla API-anrop")
    assert "Admin → Web Services → API Call Information" in what_to_do(
        n, SV
    )  # menu paths stay as Marketo says
    cleanup = note(Kind.TRIGGER_CLEANUP, stage="scheduled", deactivate_on="2026-12-15", campaigns=[{"id": 1}])
    assert (
        describe(cleanup, t=SV).title
        == "Rensning schemalagd: 1 vilande triggerkampanj inaktiveras den 15 dec. 2026"
    )
    dyn = note(
        Kind.CRM_SYNC, crm="dynamics", problem="duplicate_leads", failed_leads=2, errors_url="https://x.test"
    )
    sv = describe(dyn, t=SV)
    assert sv.title == "Microsoft Dynamics: 2 leads kunde inte synkroniseras (duplicate leads)"
    assert sv.offers[0] == ("https://x.test", "Se hela listan (CSV)")
    assert what_to_do(dyn, SV).startswith("Öppna CSV-filen (”See the full list”, sparas i 30 dagar) och slå")


def test_english_is_the_default_and_unchanged() -> None:
    for n in SAMPLES + VARIANTS:
        assert describe(n) == describe(n, t=texts_for("en")) == describe(n, t=EN)
        assert what_to_do(n) == what_to_do(n, texts_for("en-US"))
    assert what_to_do(note(Kind.WEB_SERVICES, percent=80)).startswith("At 100% every API call is refused")
    more = dict(describe(VARIANTS[-1]).facts)["More fields"]
    assert more == "3 more: f9, f10, f11"


# 00:00 CT on these days, in Stockholm (docs/design/locale.md §4: the weeks only one side is on summer time)
RESETS = [
    (datetime(2026, 3, 7, 6, 0, tzinfo=UTC), "7 mars 07:00 (00:00 CT)", "Mar 7, 7:00 AM (12:00 AM CT)"),
    (datetime(2026, 3, 10, 5, 0, tzinfo=UTC), "10 mars 06:00 (00:00 CT)", "Mar 10, 6:00 AM (12:00 AM CT)"),
    (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), "30 mars 07:00 (00:00 CT)", "Mar 30, 7:00 AM (12:00 AM CT)"),
    (datetime(2026, 10, 26, 5, 0, tzinfo=UTC), "26 okt. 06:00 (00:00 CT)", "Oct 26, 6:00 AM (12:00 AM CT)"),
    (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "2 nov. 07:00 (00:00 CT)", "Nov 2, 7:00 AM (12:00 AM CT)"),
]


@pytest.mark.parametrize(("resets", "sv", "en"), RESETS)
def test_the_reset_is_local_with_ct_beside(resets: datetime, sv: str, en: str) -> None:
    n = note(Kind.WEB_SERVICES, percent=100, resets_at=resets.isoformat())
    assert dict(describe(n, t=SV_STOCKHOLM).facts)["Återställs"] == sv
    assert dict(describe(n, t=texts_for("en", "Europe/Stockholm")).facts)["Resets"] == en
    central = dict(describe(n).facts)["Resets"]  # no zone: today's US Central text
    assert central.endswith(", 12:00 AM CT") and central == reset_text(resets, EN)


def test_the_reset_without_a_zone_is_todays_text() -> None:
    n = note(Kind.WEB_SERVICES, percent=100, resets_at="2026-11-29T06:00:00+00:00")
    assert dict(describe(n).facts)["Resets"] == "Nov 29, 12:00 AM CT"
    assert dict(describe(n, t=SV).facts)["Återställs"] == "29 nov. 00:00 CT"


def quota_event(**extra: Any) -> Notification:
    fields: Mapping[str, Any] = {
        "used": 8_034, "quota": 10_000, "percent": 80.3, "threshold": 80,
        "resets_at": "2024-03-06T06:00:00+00:00", **extra,
    }  # fmt: skip
    return Notification("q", Kind.WEB_SERVICES, Severity.WARNING, T, instance="123-ABC-456", fields=fields,
                        source="marketo")  # fmt: skip


def test_the_quota_watch_summary_is_worded_per_reader() -> None:
    n = quota_event(outlook="runs_out", runs_out_at="2024-03-05T17:40:00+00:00")
    forecast = "at the current rate the quota runs out at 11:40 CT, 12 h before the reset"
    assert describe(n).summary == (
        "Marketo API usage on 123-ABC-456 passed 80 %: 8,034 of 10,000 calls today (80.3 %); resets at 00:00 CT; "
        + forecast
    )
    assert describe(n).detail == ("Forecast", forecast)
    assert describe(n, t=SV).summary == (
        "Marketos API-användning på 123-ABC-456 har passerat 80 %: 8\xa0034 av 10\xa0000 anrop i dag (80,3 %); "
        "återställs kl. 00:00 CT; i nuvarande takt tar kvoten slut kl. 11:40 CT, 12 h före återställningen"
    )
    assert item_label(n) == describe(n).title + ": " + (describe(n).summary or "")
    assert describe(quota_event(outlook="lasts")).detail == (
        "Forecast",
        "at the current rate the quota lasts until the reset at 00:00 CT",
    )
    # an event from another sender gets no words of the quota watch; one stored with English keeps it
    assert (
        describe(Notification("x", Kind.WEB_SERVICES, Severity.WARNING, T, fields=n.fields)).summary is None
    )
    assert describe(quota_event(forecast="old English text")).detail == ("Forecast", "old English text")


def test_the_quota_reset_is_worded_per_reader() -> None:
    reset = Notification("r", Kind.WEB_SERVICES, Severity.INFO, T, instance="123-ABC-456", source="marketo",
                         status="resolved", fields={"resets_at": "2024-03-06T06:00:00+00:00"})  # fmt: skip
    assert describe(reset).summary == "Marketo's daily API quota on 123-ABC-456 reset at 00:00 CT"
    assert (
        describe(reset, t=SV).summary == "Marketos dagliga API-kvot på 123-ABC-456 återställdes kl. 00:00 CT"
    )


def test_every_kind_has_a_swedish_describer_and_advisor() -> None:
    for kind, spec in KINDS.items():
        n = note(kind)
        assert spec.describe(n, {}, SV).title != spec.describe(n, {}, EN).title
        assert spec.advice({}, SV) != spec.advice({}, EN)
