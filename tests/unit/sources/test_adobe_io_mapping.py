"""Adobe I/O envelopes → Notifications: every documented variant, pure functions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from notifbot.i18n import texts_for
from notifbot.kinds import describe
from notifbot.model import Kind, Severity
from notifbot.sources.adobe_io.mapping import classify, is_validation, parse_time, to_notification, unwrap

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
T = "com.adobe.platform.marketo.notification."


def adobe_shape(etype: str, data: dict[str, Any], **outer: Any) -> dict[str, Any]:
    body = {"specversion": "1.0", "type": etype, "time": "2024-12-18T07:32:30Z", "data": data}
    return {"eventid": "e-1", "event": {"body": body}, "recipientclientid": "cid", **outer}


def test_both_envelope_variants_unwrap_to_the_same_event() -> None:
    data = {"munchkinId": "123-ABC-456", "componentType": "web_services"}
    adobe = unwrap(adobe_shape(T + "web_services", data))
    marketo = unwrap(
        {"event_id": "e-1", "event": {"type": T + "web_services", "data": data}, "recipient_client_id": "cid"}
    )
    for env in (adobe, marketo):
        assert (env.event_id, env.recipient, env.type, env.data["munchkinId"]) == (
            "e-1",
            "cid",
            T + "web_services",
            "123-ABC-456",
        )


def test_header_body_wrapper_and_missing_ids() -> None:
    inner = adobe_shape(T + "campaign_abort", {})
    env = unwrap({"header": {"msgType": "EVENT"}, "body": inner})
    assert env.event_id == "e-1" and env.type == T + "campaign_abort"
    no_id = {"event": {"type": T + "x", "id": "ce-7", "data": {}}}
    assert unwrap(no_id).event_id == "ce-7"
    assert unwrap({"event": {"type": "t", "data": {}}}, "hdr-1").event_id == "hdr-1"
    n1 = to_notification(unwrap({"event": {"type": "t", "data": {"a": 1}}}), now=NOW)
    n2 = to_notification(unwrap({"event": {"type": "t", "data": {"a": 1}}}), now=NOW)
    assert n1.key == n2.key and n1.key.startswith("adobe-io-h")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-12-18T07:32:30Z", datetime(2024, 12, 18, 7, 32, 30, tzinfo=UTC)),
        (
            "2021-05-27T10:22:37.489-5:00",
            datetime(2021, 5, 27, 10, 22, 37, 489000, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2024-07-11 13:20:42.755", datetime(2024, 7, 11, 13, 20, 42, 755000, tzinfo=UTC)),
        (
            "2024-07-11T13:20:42+0530",
            datetime(2024, 7, 11, 13, 20, 42, tzinfo=timezone(timedelta(hours=5.5))),
        ),
        (1733000000000, datetime.fromtimestamp(1733000000, UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_odd_time_formats(text: Any, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_unparseable_time_falls_back_to_receipt() -> None:
    raw = adobe_shape(T + "web_services", {})
    raw["event"]["body"]["time"] = "soon"
    assert to_notification(unwrap(raw), now=NOW).occurred_at == NOW


@pytest.mark.parametrize(
    "etype,data,kind",
    [
        (T + "campaign_failure", {"componentType": "campaign_abort"}, Kind.CAMPAIGN_FAILURE),  # type wins
        ("com.adobe.platform.marketo.notification", {"componentType": "campaign_abort"}, Kind.CAMPAIGN_ABORT),
        ("", {"subType": "dailyQuota"}, Kind.WEB_SERVICES),
        (T + "nurture", {}, Kind.ENGAGEMENT),
        (T + "program_exhausted", {}, Kind.ENGAGEMENT),
        (T + "salesforce_sync_failure", {}, Kind.CRM_SYNC),
        ("com.adobe.platform.marketo.audit.user.smartcampaign", {}, Kind.AUDIT),
        (T + "test_group", {}, Kind.AB_TEST_RESULT),
        (T + "something_new", {"componentType": "mystery"}, Kind.OTHER),
    ],
)
def test_classification(etype: str, data: dict[str, Any], kind: Kind) -> None:
    assert classify(unwrap(adobe_shape(etype, data))) is kind


def test_web_services_fields() -> None:
    action = {"dailyQuota": 1000000, "percent": 25, "serviceNames": ["svc-a", "svc-b"]}
    raw = adobe_shape(
        T + "web_services", {"munchkinId": "123-ABC-456", "subType": "dailyQuota", "eventAction": action}
    )
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.WEB_SERVICES and n.instance == "123-ABC-456" and n.key == "adobe-io-e-1"
    assert (n.fields["percent"], n.fields["quota"], n.fields["used"]) == (25.0, 1000000, 250000)
    assert n.fields["service_names"] == ["svc-a", "svc-b"]
    assert n.severity is Severity.WARNING  # below 100 %
    assert n.summary is None and n.source == "adobe_io"  # the kind words it (kinds/adobe_text.py)
    assert (
        describe(n).summary
        == "Marketo web services reached 25 % of the daily API quota (1,000,000 calls): svc-a, svc-b"
    )
    assert describe(n, t=texts_for("sv")).summary == (
        "Marketos webbtjänster har nått 25\xa0% av den dagliga API-kvoten (1\xa0000\xa0000 anrop): svc-a, svc-b"
    )


def test_campaign_abort_fields() -> None:
    action = {"campaignId": 1234, "userId": "foo@bar.com"}
    raw = adobe_shape(T + "campaign_abort", {"subType": "user_campaign_abort", "eventAction": action})
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.CAMPAIGN_ABORT
    assert (n.fields["campaign_id"], n.fields["user_id"]) == (1234, "foo@bar.com")
    assert n.fields["sub_type"] == "user_campaign_abort"


def test_engagement_crm_and_ab_test() -> None:
    eng = to_notification(
        unwrap(
            adobe_shape(T + "nurture", {"eventAction": {"programName": "Onboarding", "exhaustedCount": 12}})
        ),
        now=NOW,
    )
    assert eng.kind is Kind.ENGAGEMENT and eng.fields["exhausted_count"] == 12
    crm = to_notification(
        unwrap(
            adobe_shape(T + "salesforce_sync_failure", {"eventAction": {"errorMessage": "INVALID_SESSION"}})
        ),
        now=NOW,
    )
    assert crm.kind is Kind.CRM_SYNC and crm.fields["crm"] == "salesforce" and crm.fields["error"]
    ab = to_notification(
        unwrap(adobe_shape(T + "test_group", {"eventAction": {"programName": "News"}})), now=NOW
    )
    assert (
        ab.kind is Kind.AB_TEST_RESULT
        and ab.kind_label == "ab_test_result"
        and ab.fields["program_name"] == "News"
    )


def test_audit_stream() -> None:
    data = {
        "eventAction": "deactivate",
        "userId": "jo@x.com",
        "componentType": "Smart Campaign",
        "componentId": 9,
    }
    n = to_notification(unwrap(adobe_shape("com.adobe.platform.marketo.audit.user.campaign", data)), now=NOW)
    assert n.kind is Kind.AUDIT and n.severity is Severity.WARNING
    assert (n.fields["user_id"], n.fields["action"], n.fields["component_id"]) == (
        "jo@x.com",
        "deactivate",
        9,
    )
    approve = dict(data, eventAction="approve")
    n2 = to_notification(unwrap(adobe_shape("com.adobe.platform.marketo.audit.user.email", approve)), now=NOW)
    assert n2.severity is Severity.INFO


def test_unknown_types_keep_the_raw_payload() -> None:
    raw = adobe_shape("com.adobe.platform.marketo.observability.status", {"quota": {"used": 1}})
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.OTHER and n.kind_label == "com.adobe.platform.marketo.observability.status"
    assert n.fields["payload"] == raw and n.labels["adobe_stream"] == "observability"


def test_odd_field_shapes_degrade_to_other_not_an_error() -> None:
    raw = adobe_shape(T + "campaign_failure", {"eventAction": {"campaignId": {"nested": True}}})
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.OTHER and n.fields["payload"] == raw and n.key == "adobe-io-e-1"


def test_validation_post_is_recognised() -> None:
    assert is_validation({"validationUrl": "https://csm.adobe.io/csm/webhooks/validate?x=1"})
    assert not is_validation(adobe_shape(T + "x", {}))
    assert not is_validation([{"validationUrl": "x"}])


@pytest.mark.parametrize(
    "etype,data,crm,name",
    [
        (
            T + "dynamics_sync_failure",
            {"eventAction": {"errorMessage": "x"}},
            "dynamics",
            "Microsoft Dynamics",
        ),
        (T + "sync_failure", {"componentType": "Microsoft Dynamics"}, "dynamics", "Microsoft Dynamics"),
        (T + "crm_sync", {"subType": "msd_sync_failure"}, "dynamics", "Microsoft Dynamics"),
        (T + "sync_failure", {"eventAction": {"crm": "dynamics"}}, "dynamics", "Microsoft Dynamics"),
        (T + "salesforce_sync_failure", {}, "salesforce", "Salesforce"),
        (T + "sync_failure", {"componentType": "sfdc"}, "salesforce", "Salesforce"),
    ],
)
def test_crm_sync_names_the_crm_it_is_about(etype: str, data: dict[str, Any], crm: str, name: str) -> None:
    n = to_notification(unwrap(adobe_shape(etype, data)), now=NOW)
    assert n.kind is Kind.CRM_SYNC and n.fields["crm"] == crm
    assert (describe(n).summary or "").startswith(f"{name} sync failed")


def test_crm_sync_without_a_vendor_is_not_called_salesforce() -> None:
    n = to_notification(unwrap(adobe_shape(T + "sync_failure", {})), now=NOW)
    assert n.kind is Kind.CRM_SYNC and "crm" not in n.fields
    summary = describe(n).summary or ""
    assert "Salesforce" not in summary and summary.startswith("CRM sync failed")


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:00:00-14:00",
        "0001-01-01T01:00:00Z",
        "2024-01-01T10:00:00+99:00",
        10**400,
        -(10**20),
        float("nan"),
    ],
)
def test_times_that_cannot_be_converted_fall_back_to_now_and_are_kept(time: object) -> None:
    assert parse_time(time) is None
    raw = adobe_shape(T + "web_services", {"componentType": "web_services"})
    raw["event"]["body"]["time"] = time
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.WEB_SERVICES and n.occurred_at == NOW and "time" in n.fields["unreadable"]


def test_unreadable_data_becomes_other_with_the_payload_kept_safely() -> None:
    raw = adobe_shape(T + "web_services", {})
    raw["event"]["body"]["data"] = "[" * 100_000 + "]" * 100_000
    n = to_notification(unwrap(raw), now=NOW)
    assert n.kind is Kind.OTHER and n.kind_label == T + "web_services"
    assert "data" in n.fields["unreadable"] and len(n.fields["payload"]["event"]["body"]["data"]) == 10_000


def test_surrogates_from_the_journal_never_reach_the_store() -> None:
    """The journal's JSON comes through the standard library, which keeps lone surrogates as they are."""
    raw = adobe_shape(
        T + "campaign_abort", {"munchkinId": "\ud800", "eventAction": {"campaignName": "a\udc00"}}
    )
    raw["eventid"] = "e-\ud800"
    n = to_notification(unwrap(raw), now=NOW)
    assert "\ud800" not in n.key and "\ud800" not in json.dumps(
        n.as_event_dict(), ensure_ascii=False, default=str
    )


@pytest.mark.parametrize(
    ("etype", "data", "en", "sv"),
    [
        (
            T + "campaign_failure",
            {"eventAction": {"campaignName": "Q4  Invites", "userId": "ann"}},
            'Smart campaign "Q4 Invites" failed by ann',
            "Smart Campaign ”Q4 Invites” misslyckades (användare: ann)",
        ),
        (
            T + "campaign_abort",
            {"eventAction": {"campaignId": 7}},
            "Smart campaign 7 aborted",
            "Smart Campaign 7 avbruten",
        ),
        (T + "campaign_abort", {}, "Smart campaign aborted", "Smart Campaign avbruten"),
        (
            T + "nurture",
            {"eventAction": {"streamName": "S1"}},
            "Nurture content exhausted: S1",
            "Uttömt nurture-innehåll: S1",
        ),
        (
            T + "ab_test",
            {"eventAction": {"programName": "P"}},
            "A/B test result for P",
            "A/B-testresultat för P",
        ),
        (
            T + "salesforce_sync_failure",
            {"eventAction": {"problem": "Expired Credentials"}},
            "Salesforce sync failed: Expired Credentials",
            "Synkroniseringen med Salesforce misslyckades: Expired Credentials",
        ),
        (
            "com.adobe.platform.marketo.audit.user.email",
            {"userId": "ann", "eventAction": "Approve", "componentName": "Invite"},
            "Marketo audit: ann Approve email Invite",
            "Granskning i Marketo: ann Approve email Invite",
        ),
        (
            T + "mystery",
            {},
            f"Unrecognised Adobe I/O event {T}mystery",
            f"Okänd Adobe I/O-händelse {T}mystery",
        ),
        ("", {}, "Unrecognised Adobe I/O event (no type)", "Okänd Adobe I/O-händelse (ingen typ)"),
    ],
)
def test_summaries_are_worded_per_reader(etype: str, data: dict[str, Any], en: str, sv: str) -> None:
    n = to_notification(unwrap(adobe_shape(etype, data)), now=NOW)
    assert n.summary is None  # intake is language-free (docs/design/locale.md §3.5)
    assert describe(n).summary == en and describe(n, t=texts_for("sv")).summary == sv
