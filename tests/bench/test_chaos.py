"""The `make chaos` harness itself: its Slack fault proxy injects what it claims, and its tally can see a loss."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.chaos_load import Answer, Timeline, tally
from bench.chaos_proxy import SlackFaultProxy

from notifbot.errors import MaybeSentError
from notifbot.slack.sender import SlackSender
from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-chaos-test"
MESSAGE = {"text": "Smart campaign stopped", "blocks": None}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


def proxy(slack: FakeSlack, **faults: float) -> SlackFaultProxy:
    return SlackFaultProxy(slack.api_url, **{"slow": 0.0, "lost": 0.0, "slow_seconds": 1.0, **faults}).start()


async def test_an_unfaulted_call_passes_through_with_its_answer(slack: FakeSlack) -> None:
    p = proxy(slack)
    try:
        sender = SlackSender(TOKEN, p.api_url, timeout=5.0)
        assert (await sender.check_auth())["team_id"] == "T0FAKE0001"
        ts = await sender.post("C01", MESSAGE, metadata={"event_type": "e", "event_payload": {"key": "k1"}})
    finally:
        p.stop()
    assert [m.ts for m in slack.messages] == [ts]
    assert slack.messages[0].metadata == {"event_type": "e", "event_payload": {"key": "k1"}}
    assert p.counts["calls"] == 2 and p.counts["posts"] == 1


async def test_a_slow_answer_comes_after_the_client_gave_up_but_slack_has_the_message(
    slack: FakeSlack,
) -> None:
    p = proxy(slack, slow=1.0, slow_seconds=1.0)
    try:
        with pytest.raises(MaybeSentError, match="did not answer"):
            await SlackSender(TOKEN, p.api_url, timeout=0.3).post("C01", MESSAGE)
    finally:
        p.stop()
    assert len(slack.messages) == 1
    assert p.counts["slow"] == 1


async def test_a_lost_answer_drops_the_connection_but_slack_has_the_message(slack: FakeSlack) -> None:
    p = proxy(slack, lost=1.0)
    try:
        # the request went out, so the failure says the post may be there (it is looked for before a resend)
        with pytest.raises(MaybeSentError, match="connection to Slack broke"):
            await SlackSender(TOKEN, p.api_url, timeout=5.0).post("C01", MESSAGE)
        assert (await SlackSender(TOKEN, p.api_url, timeout=5.0).check_auth())["team_id"] == "T0FAKE0001"
    finally:
        p.stop()
    assert len(slack.messages) == 1
    assert p.counts["lost"] == 1 and p.counts["calls"] == 2


def _posted(*keys: str) -> list[dict[str, object]]:
    return [{"metadata": {"event_type": "notifbot", "event_payload": {"key": k}}} for k in keys]


def test_the_tally_sees_lost_duplicated_and_unacknowledged_events() -> None:
    events = [{"id": f"e{i}"} for i in range(5)]
    answers = [
        Answer("e0", 1.0, 202),
        Answer("e1", 1.1, 503),
        Answer("e1", 1.5, 202, duplicate=True),
        Answer("e2", 1.2, 202),
        Answer("e3", 1.3, None),
        Answer("e4", 1.4, 400),
    ]
    timeline = Timeline(windows=[("fault", 1.05, 1.25)])
    r = tally(
        events,
        answers,
        _posted("e0", "e1", "e1", "e3"),
        {"delivered": 4},
        {"e0", "e1", "e2", "e3"},
        timeline,
        [(1.1, 200)],
    )
    assert r["accepted"] == 3
    assert r["lost"] == ["e2"]  # accepted, never posted
    assert (r["delivered_once"], r["duplicated"], r["extra_posts"]) == (1, 1, 1)
    assert r["delivered_unacknowledged"] == 1  # e3: stored and posted, its answer never arrived
    assert (r["retryable_answers"], r["no_answer"], r["refused_for_good"]) == (1, 1, 1)
    assert r["stored_not_posted"] == 1
    assert r["windows"] == [
        {"window": "fault", "seconds": 0.2, "answers": {"503": 1, "202": 1}, "readyz": {"200": 1}}
    ]
