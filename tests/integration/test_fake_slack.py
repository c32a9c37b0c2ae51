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
    assert http.post("conversations.kick").json()["error"] == "unknown_method"


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


# -- conversations.history ------------------------------------------------------------------------------------


def history(http: httpx.Client, channel: str, **params: Any) -> dict[str, Any]:
    answer = http.get("conversations.history", params={"channel": channel, **params})
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_history_is_newest_first_and_shows_metadata_only_on_request(
    slack: FakeSlack, http: httpx.Client
) -> None:
    meta = {"event_type": "notifbot_alert", "event_payload": {"key": "k1", "outbox_id": 1}}
    first = post(http, "C1", metadata=meta).json()["ts"]
    other = slack.add_message("C1", "a human says hi")
    post(http, "C2")
    plain = history(http, "C1")
    assert [m["ts"] for m in plain["messages"]] == [other.ts, first]
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["has_more"] is False and "response_metadata" not in plain
    assert plain["messages"][0]["user"] == other.user and "bot_id" not in plain["messages"][0]
    assert plain["messages"][1]["bot_id"].startswith("B")
    for flag in ("true", "1"):
        full = history(http, "C1", include_all_metadata=flag)
        assert full["messages"][1]["metadata"] == meta
    assert "metadata" not in history(http, "C1", include_all_metadata="0")["messages"][1]


def test_history_honours_oldest_latest_inclusive(slack: FakeSlack, http: httpx.Client) -> None:
    tss = [slack.add_message("C1", f"m{i}").ts for i in range(5)]
    assert [m["ts"] for m in history(http, "C1", oldest=tss[1], latest=tss[3])["messages"]] == [tss[2]]
    inclusive = history(http, "C1", oldest=tss[1], latest=tss[3], inclusive="true")["messages"]
    assert [m["ts"] for m in inclusive] == [tss[3], tss[2], tss[1]]
    assert [m["ts"] for m in history(http, "C1", oldest=tss[3])["messages"]] == [tss[4]]
    assert history(http, "C1", oldest="nonsense") == {"ok": False, "error": "invalid_ts_oldest"}
    assert history(http, "C1", latest="-1") == {"ok": False, "error": "invalid_ts_latest"}


def test_history_pages_with_limit_and_cursor(slack: FakeSlack, http: httpx.Client) -> None:
    tss = [slack.add_message("C1", f"m{i}").ts for i in range(7)]
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = history(http, "C1", limit=3, cursor=cursor, oldest=tss[0])
        pages += 1
        assert len(page["messages"]) <= 3
        seen += [m["ts"] for m in page["messages"]]
        if not page["has_more"]:
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert seen == list(reversed(tss[1:])) and pages == 2
    assert history(http, "C1", cursor="not-a-cursor") == {"ok": False, "error": "invalid_cursor"}
    slack.history_max_limit = 15  # a non-Marketplace app distributed since 2025-05-29 gets 15 at most
    for i in range(20):
        slack.add_message("C1", f"n{i}")
    assert len(history(http, "C1", limit=200)["messages"]) == 15


def test_history_needs_an_id_the_scope_and_membership(slack: FakeSlack, http: httpx.Client) -> None:
    post(http, "#alerts")
    assert history(http, "#alerts") == {"ok": False, "error": "channel_not_found"}
    slack.scopes.discard("channels:history")
    denied = history(http, "C1")
    assert (denied["error"], denied["needed"]) == ("missing_scope", "channels:history")
    assert "chat:write" in denied["provided"].split(",")
    assert history(http, "G1")["ok"] is True  # private channels need groups:history, still granted
    slack.scopes.discard("groups:history")
    assert history(http, "G1")["needed"] == "groups:history"
    slack.scopes.add("channels:history")
    slack.nonmember_channels.add("C5")
    assert post(http, "C5").json()["ok"] is True  # chat:write.public posts without membership
    assert history(http, "C5") == {"ok": False, "error": "not_in_channel"}


def test_throttle_next_answers_429_for_that_method_only(slack: FakeSlack, http: httpx.Client) -> None:
    slack.throttle_next("conversations.history", 2, retry_after=7)
    assert post(http, "C1").json()["ok"] is True
    for _ in range(2):
        limited = http.get("conversations.history", params={"channel": "C1"})
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
        assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert history(http, "C1")["ok"] is True
    slack.fail_next_calls("conversations.history", 1, status=503)
    assert http.get("conversations.history", params={"channel": "C1"}).status_code == 503
    assert history(http, "C1")["ok"] is True
    slack.throttle_next("conversations.history", 1, after=2)
    codes = [http.get("conversations.history", params={"channel": "C1"}).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 200]


# -- answers lost after the post was accepted -----------------------------------------------------------------


def test_lost_answers_keep_the_message(slack: FakeSlack) -> None:
    slack.min_interval = 0
    slack.lose_next_answers(1, "late", delay=0.6)
    slack.lose_next_answers(1, "drop")
    slack.lose_next_answers(1, "500")
    with httpx.Client(base_url=slack.api_url, headers=AUTH, timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            post(http, "C1", text="late")
        with pytest.raises(httpx.RemoteProtocolError):
            post(http, "C1", text="dropped")
        assert post(http, "C1", text="failed").status_code == 500
        assert post(http, "C1", text="fine").json()["ok"] is True
    assert [m.text for m in slack.messages] == ["late", "dropped", "failed", "fine"]
    assert [kind for kind, _ in slack.lost_answers] == ["late", "drop", "500"]
    assert [ts for _, ts in slack.lost_answers] == [m.ts for m in slack.messages[:3]]


def test_refused_posts_lose_no_answer(slack: FakeSlack, http: httpx.Client) -> None:
    slack.lose_next_answers(1, "500")
    slack.missing_channels.add("C404")
    assert post(http, "C404").json()["error"] == "channel_not_found"
    assert post(http, "C1").status_code == 500  # the fault waited for a post the fake accepted
    assert post(http, "C1").status_code == 429 and len(slack.lost_answers) == 1


def test_lose_answers_at_a_rate_is_repeatable(slack: FakeSlack, http: httpx.Client) -> None:
    slack.min_interval = 0

    def run() -> list[str]:
        slack.reset()
        slack.min_interval = 0
        slack.lose_answers(0.3, kinds=["500"], seed=7)
        return [str(post(http, f"C{i}").status_code) for i in range(40)]

    first = run()
    assert first == run()
    assert 5 <= first.count("500") <= 20 and len(slack.messages) == 40
