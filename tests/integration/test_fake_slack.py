"""The fake Slack Web API behaves like Slack over real HTTP (JSON and form bodies, limits, 429s, faults)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test"
ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def slack(fresh_slack: FakeSlack) -> FakeSlack:
    return fresh_slack


@pytest.fixture
def http(slack: FakeSlack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slack.api_url, headers=AUTH, timeout=5) as client:
        yield client


def post(http: httpx.Client, channel: str, **fields: Any) -> httpx.Response:
    return http.post("chat.postMessage", json={"channel": channel, "text": "hi", **fields})


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_api_url_is_loopback_on_a_real_port(slack: FakeSlack) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", slack.api_url)
    assert slack.port > 0


def test_auth_test_with_bearer_form_token_missing_and_wrong(slack: FakeSlack, http: httpx.Client) -> None:
    body = http.post("auth.test").json()
    assert body["ok"] is True
    assert {"url", "team", "user", "team_id", "user_id", "bot_id"} <= body.keys()
    with httpx.Client(base_url=slack.api_url) as bare:
        assert bare.post("auth.test", data={"token": TOKEN}).json()["ok"] is True
        assert bare.post("auth.test").json() == {"ok": False, "error": "not_authed"}
        wrong = bare.post("auth.test", headers={"Authorization": "Bearer xoxb-nope"})
    assert (wrong.status_code, wrong.json()) == (200, {"ok": False, "error": "invalid_auth"})


def test_post_json_records_message_and_answers_like_slack(slack: FakeSlack, http: httpx.Client) -> None:
    blocks = [section("*hello*")]
    metadata = {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 7}}
    body = post(http, "C111", blocks=blocks, metadata=metadata).json()
    assert body["ok"] is True and body["channel"] == "C111"
    assert re.fullmatch(r"\d{10}\.\d{6}", body["ts"])
    assert body["message"]["text"] == "hi" and body["message"]["blocks"] == blocks
    [msg] = slack.messages
    assert (msg.channel, msg.ts, msg.text, msg.blocks, msg.metadata) == (
        "C111",
        body["ts"],
        "hi",
        blocks,
        metadata,
    )
    assert slack.messages_for("C111") == [msg] and slack.messages_for("C222") == []
    assert msg["ts"] == msg.ts and msg["metadata"]["event_payload"] == {"outbox_id": 7}
    with pytest.raises(KeyError):
        msg["nope"]
    assert slack.calls == [("chat.postMessage", "C111")]


def test_post_form_body_decodes_json_fields(slack: FakeSlack) -> None:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Alert"}}]
    form = {"token": TOKEN, "channel": "C1", "text": "t", "blocks": json.dumps(blocks)}
    with httpx.Client(base_url=slack.api_url) as bare:
        assert bare.post("chat.postMessage", data=form).json()["ok"] is True
    assert slack.messages[0].blocks == blocks
    assert "token" not in slack.requests[0][1]


def test_ts_values_are_unique(slack: FakeSlack, http: httpx.Client) -> None:
    tss = [post(http, f"C{i}").json()["ts"] for i in range(20)]
    assert len(set(tss)) == 20 and tss == sorted(tss)


def test_rate_limit_per_channel_answers_429_with_retry_after(slack: FakeSlack, http: httpx.Client) -> None:
    assert post(http, "C1").json()["ok"] is True
    limited = post(http, "C1")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert post(http, "C2").json()["ok"] is True  # other channels are independent
    assert slack.count_429 == 1 and len(slack.messages_for("C1")) == 1
    time.sleep(0.25)
    assert post(http, "C1").json()["ok"] is True
    gap = slack.messages_for("C1")[1].arrived - slack.messages_for("C1")[0].arrived
    assert gap >= 0.2


def test_retry_after_is_rounded_up_to_whole_seconds() -> None:
    with FakeSlack(token=TOKEN, min_interval=2.5) as slack, httpx.Client(headers=AUTH) as http:
        url = slack.api_url + "chat.postMessage"
        assert http.post(url, json={"channel": "C1", "text": "a"}).status_code == 200
        assert http.post(url, json={"channel": "C1", "text": "b"}).headers["Retry-After"] == "3"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"blocks": [section("x")] * 51}, "invalid_blocks"),
        (
            {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            "invalid_blocks",
        ),
        ({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}, "invalid_blocks"),
        ({"blocks": [section("s" * 3001)]}, "invalid_blocks"),
        (
            {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]},
            "invalid_blocks",
        ),
        (
            {"blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}]},
            "invalid_blocks",
        ),
        (
            {"blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]},
            "invalid_blocks",
        ),
        ({"blocks": [{"type": "bogus"}]}, "invalid_blocks"),
        ({"blocks": "not json"}, "invalid_blocks_format"),
        ({"text": "t" * 40001}, "msg_too_long"),
        ({"text": ""}, "no_text"),
        ({"metadata": {"event_type": "x"}}, "invalid_metadata_format"),
    ],
)
def test_payload_limits(http: httpx.Client, slack: FakeSlack, fields: dict[str, Any], error: str) -> None:
    body = post(http, "C1", **fields).json()
    assert (body["ok"], body["error"]) == (False, error)
    assert slack.messages == []


def test_invalid_blocks_explains_where(http: httpx.Client) -> None:
    body = post(http, "C1", blocks=[section("ok"), section("s" * 3001)]).json()
    assert body["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
    ]


def test_payloads_at_the_limits_are_accepted(http: httpx.Client) -> None:
    fields = [{"type": "mrkdwn", "text": "f" * 2000}] * 10
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}
    blocks = [header, section("s" * 3000), {"type": "section", "fields": fields}] + [{"type": "divider"}] * 47
    assert post(http, "C1", text="t" * 40000, blocks=blocks).json()["ok"] is True


def test_channel_errors(slack: FakeSlack, http: httpx.Client) -> None:
    slack.missing_channels.add("C404")
    slack.not_in_channel_channels.add("C403")
    slack.archived_channels.add("COLD")
    assert post(http, "C404").json()["error"] == "channel_not_found"
    assert post(http, "C403").json()["error"] == "not_in_channel"
    assert post(http, "COLD").json()["error"] == "is_archived"
    assert http.post("chat.postMessage", json={"text": "no channel"}).json()["error"] == "channel_not_found"
    assert slack.messages == []


def test_revoked_token_answers_invalid_auth(slack: FakeSlack, http: httpx.Client) -> None:
    assert post(http, "C1").json()["ok"] is True
    slack.revoke_token()
    assert post(http, "C2").json() == {"ok": False, "error": "invalid_auth"}
    assert http.post("auth.test").json()["error"] == "invalid_auth"


def test_fail_next_answers_html_errors_then_recovers(slack: FakeSlack, http: httpx.Client) -> None:
    slack.fail_next(2)
    first, second = post(http, "C1"), http.post("auth.test")
    assert (first.status_code, second.status_code) == (500, 500)
    assert first.headers["content-type"].startswith("text/html")
    assert post(http, "C1").json()["ok"] is True
    assert [m for m, _ in slack.calls] == ["chat.postMessage", "auth.test", "chat.postMessage"]
    assert len(slack.messages) == 1


def test_fail_next_with_error(slack: FakeSlack, http: httpx.Client) -> None:
    slack.fail_next_with_error(1, "missing_scope", needed="chat:write", provided="commands")
    body = post(http, "C1").json()
    assert body == {"ok": False, "error": "missing_scope", "needed": "chat:write", "provided": "commands"}
    assert post(http, "C1").json()["ok"] is True


def test_unknown_method(http: httpx.Client) -> None:
    assert http.post("conversations.history").json()["error"] == "unknown_method"


def test_chat_update_replaces_the_stored_message(slack: FakeSlack, http: httpx.Client) -> None:
    ts = post(http, "C1", blocks=[section("old")]).json()["ts"]
    body = http.post(
        "chat.update", json={"channel": "C1", "ts": ts, "text": "new", "blocks": [section("new")]}
    )
    assert body.json()["ok"] is True and body.json()["ts"] == ts
    [msg] = slack.messages
    assert (msg.ts, msg.text, msg.blocks) == (ts, "new", [section("new")])
    [upd] = slack.updates
    assert (upd.channel, upd.ts, upd.text) == ("C1", ts, "new")
    missing = http.post("chat.update", json={"channel": "C1", "ts": "1.000001", "text": "x"}).json()
    assert missing["error"] == "message_not_found"


def test_response_url_records_five_posts(slack: FakeSlack) -> None:
    url = slack.response_url("abc")
    with httpx.Client() as http:
        for i in range(5):
            assert http.post(url, json={"text": f"r{i}"}).json() == {"ok": True}
        assert http.post(url, json={"text": "sixth"}).status_code == 404
    assert [b["text"] for b in slack.responses_for("abc")] == ["r0", "r1", "r2", "r3", "r4"]


def test_latency_delays_answers(slack: FakeSlack, http: httpx.Client) -> None:
    slack.set_latency(0.3)
    started = time.monotonic()
    assert http.post("auth.test").json()["ok"] is True
    assert time.monotonic() - started >= 0.3


async def test_concurrent_async_posts_respect_the_channel_rate(slack: FakeSlack) -> None:
    async with httpx.AsyncClient(base_url=slack.api_url, headers=AUTH) as http:
        same = [http.post("chat.postMessage", json={"channel": "C1", "text": str(i)}) for i in range(5)]
        other = [http.post("chat.postMessage", json={"channel": f"D{i}", "text": "x"}) for i in range(5)]
        answers = await asyncio.gather(*same, *other)
    assert sorted(r.status_code for r in answers[:5]) == [200, 429, 429, 429, 429]
    assert all(r.status_code == 200 for r in answers[5:])
    assert slack.count_429 == 4 and len(await slack.wait_for_messages_async(6)) == 6


def test_wait_for_messages_times_out(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError):
        slack.wait_for_messages(1, timeout=0.05)


def _standalone(dump: Path) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "tests.fakes.slack",
        "--port",
        "0",
        "--min-interval",
        "0.2",
        "--dump",
        str(dump),
    ]
    return subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("stop", ["eof", "sigterm"])
def test_standalone_dumps_messages_on_exit(tmp_path: Path, stop: str) -> None:
    dump = tmp_path / "messages.json"
    with _standalone(dump) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            line = proc.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:"), line
            api_url = line.split()[1]
            answer = httpx.post(
                api_url + "chat.postMessage", headers=AUTH, json={"channel": "C1", "text": "hello"}
            )
            assert answer.json()["ok"] is True
            if stop == "eof":
                proc.stdin.close()
            else:
                proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    [msg] = json.loads(dump.read_text())
    assert (msg["channel"], msg["text"]) == ("C1", "hello")
