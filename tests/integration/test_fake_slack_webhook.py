"""The fake Slack's incoming webhooks answer like Slack's: "ok", plain-text errors, 429 + Retry-After per channel."""

from __future__ import annotations

import re

import httpx

from tests.fakes.slack import FakeSlack

ATTACHMENT = {"title": "[FIRING:2] CampaignFailure", "text": "storm-0001\nstorm-0002", "fallback": "x"}


def test_a_post_is_stored_in_the_webhooks_channel_and_answered_ok(fresh_slack: FakeSlack) -> None:
    url = fresh_slack.incoming_webhook("C0HOOK")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/services/T0FAKE0001/B[0-9A-F]{10}/[\w-]+", url)
    resp = httpx.post(url, json={"channel": "#elsewhere", "attachments": [ATTACHMENT]})
    assert (resp.status_code, resp.text) == (200, "ok")
    assert resp.headers["content-type"].startswith("text/html")
    [message] = fresh_slack.messages
    assert (message.channel, message.text, message.attachments) == ("C0HOOK", "", [ATTACHMENT])
    assert fresh_slack.posted == [message]
    assert fresh_slack.calls == [("incoming-webhook", "C0HOOK")]


def test_a_second_post_within_the_interval_is_refused_with_retry_after(fresh_slack: FakeSlack) -> None:
    url = fresh_slack.incoming_webhook("C0HOOK")
    with httpx.Client(timeout=5) as http:
        assert http.post(url, json={"text": "one"}).text == "ok"
        second = http.post(url, json={"text": "two"})
    assert (second.status_code, second.text, second.headers["retry-after"]) == (429, "rate_limited", "1")
    assert fresh_slack.count_429 == 1
    assert [m.text for m in fresh_slack.messages] == ["one"]
    assert len(fresh_slack.calls) == 2


def test_bad_payloads_and_unknown_hooks_get_slacks_error_codes(fresh_slack: FakeSlack) -> None:
    url = fresh_slack.incoming_webhook("C0HOOK")
    with httpx.Client(timeout=5) as http:
        assert (r := http.post(url, content=b"{nope")).status_code == 400 and r.text == "invalid_payload"
        assert (r := http.post(url, json={"username": "am"})).status_code == 400 and r.text == "no_text"
        many = {"attachments": [ATTACHMENT] * 101}
        assert (r := http.post(url, json=many)).status_code == 400 and r.text == "too_many_attachments"
        gone = url.rsplit("/", 1)[0] + "/wrong-secret"
        assert (r := http.post(gone, json={"text": "x"})).status_code == 404 and r.text == "no_service"
    assert fresh_slack.messages == []
