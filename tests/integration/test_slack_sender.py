"""SlackSender over real HTTP with the real slack_sdk client, against the fake Slack Web API."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from notifbot.errors import MaybeSentError, PermanentDeliveryError, RateLimitedError, TransientDeliveryError
from notifbot.slack.sender import HistoryUnreadable, SlackSender, classify
from tests.fakes.slack import FakeSlack, LostAnswer

TOKEN = "xoxb-test"
SECRET_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
MESSAGE: dict[str, Any] = {
    "text": "Campaign failed",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Campaign failed"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Smart campaign* stopped &lt;here&gt;"}},
    ],
}


@pytest.fixture
def slack(fresh_slack: FakeSlack) -> FakeSlack:
    return fresh_slack


@pytest.fixture
async def sender(slack: FakeSlack) -> AsyncIterator[SlackSender]:
    s = SlackSender(TOKEN, slack.api_url, timeout=2.0)
    yield s
    await s.close()


async def test_check_auth_returns_identity(sender: SlackSender) -> None:
    who = await sender.check_auth()
    assert who["team_id"].startswith("T") and who["user_id"].startswith("U") and who["bot_id"].startswith("B")
    assert {"team", "user", "url"} <= who.keys()


async def test_post_returns_ts_and_sends_text_blocks_metadata(slack: FakeSlack, sender: SlackSender) -> None:
    metadata = {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 3, "key": "k"}}
    ts = await sender.post("C123", MESSAGE, metadata=metadata)
    [msg] = slack.messages
    assert (msg.ts, msg.channel, msg.text, msg.blocks, msg.metadata) == (
        ts,
        "C123",
        MESSAGE["text"],
        MESSAGE["blocks"],
        metadata,
    )
    [(method, params)] = slack.requests
    assert method == "chat.postMessage"
    assert params["unfurl_links"] is False and params["unfurl_media"] is False
    assert "link_names" not in params and "parse" not in params


async def test_update_replaces_the_message(slack: FakeSlack, sender: SlackSender) -> None:
    ts = await sender.post("C123", MESSAGE)
    await sender.update("C123", ts, {"text": "Resolved", "blocks": [MESSAGE["blocks"][0]]})
    [msg] = slack.messages
    assert (msg.ts, msg.text, msg.blocks) == (ts, "Resolved", [MESSAGE["blocks"][0]])
    assert [u.ts for u in slack.updates] == [ts]


async def test_update_of_unknown_message_is_permanent(sender: SlackSender) -> None:
    with pytest.raises(PermanentDeliveryError, match="message_not_found"):
        await sender.update("C123", "1700000000.000001", MESSAGE)


async def test_update_failures_are_classified_and_token_free(slack: FakeSlack) -> None:
    sender = SlackSender(SECRET_TOKEN, slack.api_url, timeout=2.0)
    with pytest.raises(PermanentDeliveryError) as caught:  # the fake knows only TOKEN: invalid_auth
        await sender.update("C123", "1700000000.000001", MESSAGE)
    assert "SLACK_BOT_TOKEN" in str(caught.value) and "xoxb-" not in str(caught.value)
    ok = SlackSender(TOKEN, slack.api_url, timeout=2.0)
    ts = await ok.post("C123", MESSAGE)
    slack.fail_next_with_error(1, "service_unavailable")
    with pytest.raises(TransientDeliveryError, match=r"chat\.update"):
        await ok.update("C123", ts, MESSAGE)
    slack.throttle_next("chat.update", retry_after=7)
    with pytest.raises(RateLimitedError, match=r"rate limit on chat\.update") as limited:
        await ok.update("C123", ts, MESSAGE)
    assert limited.value.retry_after == 7.0


async def test_rate_limit_is_transient_with_retry_after(slack: FakeSlack, sender: SlackSender) -> None:
    await sender.post("C123", MESSAGE)
    with pytest.raises(TransientDeliveryError, match="rate limit") as caught:
        await sender.post("C123", MESSAGE)
    assert caught.value.retry_after == 1.0
    assert slack.count_429 == 1 and len(slack.messages) == 1


async def test_retry_after_follows_the_header() -> None:
    with FakeSlack(token=TOKEN, min_interval=2.5) as slack:
        sender = SlackSender(TOKEN, slack.api_url, timeout=2.0)
        await sender.post("C1", MESSAGE)
        with pytest.raises(TransientDeliveryError) as caught:
            await sender.post("C1", MESSAGE)
    assert caught.value.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 503, 200])
async def test_html_error_pages_are_transient(slack: FakeSlack, sender: SlackSender, status: int) -> None:
    slack.fail_next(1, status=status)
    with pytest.raises(TransientDeliveryError):
        await sender.post("C123", MESSAGE)
    assert await sender.post("C123", MESSAGE)  # recovers on the next call


@pytest.mark.parametrize("code", ["internal_error", "fatal_error", "service_unavailable", "request_timeout"])
async def test_transient_slack_codes(slack: FakeSlack, sender: SlackSender, code: str) -> None:
    slack.fail_next_with_error(1, code)
    with pytest.raises(TransientDeliveryError, match=code):
        await sender.post("C123", MESSAGE)


async def test_wrong_token_is_permanent_actionable_and_token_free(slack: FakeSlack) -> None:
    sender = SlackSender(SECRET_TOKEN, slack.api_url, timeout=2.0)
    for call in (sender.check_auth(), sender.post("C123", MESSAGE)):
        with pytest.raises(PermanentDeliveryError) as caught:
            await call
        text = str(caught.value)
        assert "SLACK_BOT_TOKEN" in text and "reinstall" in text
        assert SECRET_TOKEN not in text and "xoxb-" not in text


async def test_revoked_token_is_permanent(slack: FakeSlack, sender: SlackSender) -> None:
    await sender.post("C123", MESSAGE)
    slack.revoke_token()
    with pytest.raises(PermanentDeliveryError, match="invalid_auth"):
        await sender.post("C124", MESSAGE)


async def test_not_in_channel_says_how_to_invite(slack: FakeSlack, sender: SlackSender) -> None:
    slack.not_in_channel_channels.add("C0NOTIN01")
    with pytest.raises(PermanentDeliveryError) as caught:
        await sender.post("C0NOTIN01", MESSAGE)
    assert "C0NOTIN01" in str(caught.value) and "/invite @notifbot" in str(caught.value)
    assert "chat:write.public" in str(caught.value)


async def test_channel_not_found_says_to_use_the_id(slack: FakeSlack, sender: SlackSender) -> None:
    slack.missing_channels.add("#alerts")
    with pytest.raises(PermanentDeliveryError) as caught:
        await sender.post("#alerts", MESSAGE)
    assert "#alerts" in str(caught.value) and "channel ID" in str(caught.value)


async def test_missing_scope_names_the_needed_scope(slack: FakeSlack, sender: SlackSender) -> None:
    slack.fail_next_with_error(1, "missing_scope", needed="chat:write", provided="commands")
    with pytest.raises(PermanentDeliveryError, match="chat:write"):
        await sender.post("C123", MESSAGE)


async def test_invalid_blocks_carries_slack_details(sender: SlackSender) -> None:
    bad = {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}
    with pytest.raises(PermanentDeliveryError, match=r"invalid_blocks.*less than 151 characters"):
        await sender.post("C123", bad)


async def test_unknown_codes_are_permanent(slack: FakeSlack, sender: SlackSender) -> None:
    slack.fail_next_with_error(1, "something_new")
    with pytest.raises(PermanentDeliveryError, match="Slack refused the message: something_new"):
        await sender.post("C123", MESSAGE)


async def test_closed_port_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = SlackSender(SECRET_TOKEN, f"http://127.0.0.1:{port}/api/", timeout=2.0)
    with pytest.raises(TransientDeliveryError, match="cannot reach Slack") as caught:
        await sender.post("C123", MESSAGE)
    assert SECRET_TOKEN not in str(caught.value)


async def test_timeout_is_transient() -> None:
    with FakeSlack(token=TOKEN, min_interval=0.2) as slack:  # its own: the slow request outlives the test
        slack.set_latency(0.5)
        sender = SlackSender(TOKEN, slack.api_url, timeout=0.1)
        with pytest.raises(TransientDeliveryError, match="in time"):
            await sender.post("C123", MESSAGE)


def _api_error(status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> SlackApiError:
    response = SimpleNamespace(status_code=status, data=data, headers=headers or {})
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("exc", "kind", "retry_after"),
    [
        (
            _api_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
            RateLimitedError,
            7.0,
        ),
        (_api_error(429, {}, {}), RateLimitedError, 1.0),
        (_api_error(200, {"ok": False, "error": "ratelimited"}), RateLimitedError, 1.0),
        # Slack may have posted it: the retry looks first
        (_api_error(503, {}), MaybeSentError, None),
        (_api_error(200, {}), MaybeSentError, None),
        (_api_error(200, {"ok": False, "error": "internal_error"}), MaybeSentError, None),
        (_api_error(200, {"ok": False, "error": "fatal_error"}), MaybeSentError, None),
        (TimeoutError(), MaybeSentError, None),
        (aiohttp.SocketTimeoutError(), MaybeSentError, None),
        (aiohttp.ServerDisconnectedError(), MaybeSentError, None),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), MaybeSentError, None),
        (aiohttp.ClientPayloadError("cut short"), MaybeSentError, None),
        # Slack certainly did not act on it
        (_api_error(200, {"ok": False, "error": "team_added_to_org"}), TransientDeliveryError, None),
        (_api_error(200, {"ok": False, "error": "request_timeout"}), TransientDeliveryError, None),
        (_api_error(404, {}), TransientDeliveryError, None),
        (aiohttp.ConnectionTimeoutError(), TransientDeliveryError, None),
        (ConnectionRefusedError(111, "Connection refused"), TransientDeliveryError, None),
        (_api_error(200, {"ok": False, "error": "token_revoked"}), PermanentDeliveryError, None),
        (aiohttp.InvalidURL("nope"), PermanentDeliveryError, None),
    ],
)
def test_classify(exc: BaseException, kind: type[Exception], retry_after: float | None) -> None:
    err = classify(exc, channel="C1")
    assert type(err) is kind
    if isinstance(err, TransientDeliveryError):
        assert err.retry_after == retry_after


def test_classify_never_leaks_a_token() -> None:
    exc = aiohttp.ClientConnectionError(f"proxy said Authorization: Bearer {SECRET_TOKEN}")
    err = classify(exc, channel="C1", token=SECRET_TOKEN)
    assert isinstance(err, TransientDeliveryError)
    assert SECRET_TOKEN not in str(err) and "[token]" in str(err)
    other = classify(OSError("xoxp-999-other-token"), channel="C1")
    assert "xoxp-999" not in str(other)


# -- answers lost after Slack stored the post, and reading the history back -------------------------------------


@pytest.mark.parametrize("kind", ["late", "drop", "500"])
async def test_a_lost_answer_is_maybe_sent_and_waits_the_timeout_before_looking(
    slack: FakeSlack, kind: LostAnswer
) -> None:
    slack.lose_next_answers(1, kind, delay=1.0)
    sender = SlackSender(TOKEN, slack.api_url, timeout=0.3)
    with pytest.raises(MaybeSentError) as caught:
        await sender.post("C123", MESSAGE)
    assert caught.value.recheck_after == 0.3
    assert len(slack.messages) == 1  # Slack has it


async def test_connection_refused_is_not_maybe_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sender = SlackSender(TOKEN, f"http://127.0.0.1:{port}/api/", timeout=2.0)
    with pytest.raises(TransientDeliveryError) as caught:
        await sender.post("C123", MESSAGE)
    assert not isinstance(caught.value, MaybeSentError)


async def test_history_reads_pages_with_metadata(slack: FakeSlack, sender: SlackSender) -> None:
    slack.min_interval = 0
    metadata = {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 1, "key": "k"}}
    first = await sender.post("C123", MESSAGE, metadata=metadata)
    for i in range(3):
        slack.add_message("C123", f"later {i}")
    page = await sender.history("C123", oldest=f"{float(first) - 1:.6f}", limit=2)
    assert [m["text"] for m in page.messages] == ["later 2", "later 1"] and page.next_cursor
    rest = await sender.history("C123", oldest=f"{float(first) - 1:.6f}", limit=2, cursor=page.next_cursor)
    assert [m["ts"] for m in rest.messages] == [slack.messages[1].ts, first]
    assert rest.messages[1]["metadata"] == metadata and rest.next_cursor is None
    [request] = [p for m, p in slack.requests if m == "conversations.history"][:1]
    assert request["include_all_metadata"] == "1"


@pytest.mark.parametrize(
    ("setup", "channel", "code", "hint"),
    [
        (lambda s: s.scopes.discard("channels:history"), "C123", "missing_scope", "channels:history"),
        (lambda s: s.scopes.discard("groups:history"), "G123", "missing_scope", "groups:history"),
        (lambda s: s.nonmember_channels.add("C123"), "C123", "not_in_channel", "/invite @notifbot"),
        (lambda s: None, "#alerts", "channel_not_found", "channel ID"),
    ],
)
async def test_history_refusals_say_what_to_fix(
    slack: FakeSlack, sender: SlackSender, setup: Any, channel: str, code: str, hint: str
) -> None:
    setup(slack)
    with pytest.raises(HistoryUnreadable) as caught:
        await sender.history(channel, oldest="0", limit=15)
    assert caught.value.code == code and hint in str(caught.value) and channel in str(caught.value)


async def test_history_429_is_rate_limited_and_5xx_is_transient(
    slack: FakeSlack, sender: SlackSender
) -> None:
    slack.throttle_next("conversations.history", 1, retry_after=4)
    with pytest.raises(RateLimitedError) as caught:
        await sender.history("C123", oldest="0", limit=15)
    assert caught.value.retry_after == 4.0
    slack.fail_next_calls("conversations.history", 1, status=502)
    with pytest.raises(TransientDeliveryError) as failed:
        await sender.history("C123", oldest="0", limit=15)
    assert not isinstance(failed.value, HistoryUnreadable | RateLimitedError)
    assert (await sender.history("C123", oldest="0", limit=15)).messages == []
