"""The storm bench harness: it sees items, counts and 429s in the fake Slack, and measures a real Alertmanager."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from bench.storm import notifbot_config, rows, targets_missed
from bench.storm_watch import Outcome, item_name, shows_count, visible_items, watch

from bench import storm_am
from tests.fakes.slack import FakeSlack


def test_items_are_read_from_what_a_reader_sees_and_the_count_must_be_stated() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{item_name(7)} and {item_name(12)}"}}]
    assert visible_items("", blocks, None) == {7, 12}
    assert visible_items("storm-1", None, [{"text": item_name(3)}]) == {3}
    assert shows_count("[FIRING:2] CampaignFailure", blocks, None, 2)
    assert not shows_count("CampaignFailure", blocks, None, 2)  # the 2 inside "storm-00012" does not count
    assert shows_count("1,000 campaigns stopped", None, None, 1000)
    assert not shows_count("10,000 campaigns stopped", None, None, 1000)


def test_watch_counts_posts_updates_calls_and_429s_and_stops_at_the_cap() -> None:
    with FakeSlack(token="xoxb-t", min_interval=1.0) as fake, httpx.Client(timeout=5) as http:
        url = fake.incoming_webhook("C1")
        t0 = time.time()
        assert http.post(url, json={"text": f"2 stopped: {item_name(0)}, {item_name(1)}"}).text == "ok"
        assert http.post(url, json={"text": item_name(2)}).status_code == 429
        out = watch(fake, Outcome("x", "y", 3), t0=t0, calls_before=0, max_wait=0.3, settle=0.0)
    assert (out.messages, out.count_429, out.api_calls) == (1, 1, {"incoming-webhook": 2})
    assert (out.visible, out.all_visible_s, out.largest_message_items, out.count_shown) == (2, None, 2, True)
    assert out.watched_s >= 0.3
    assert out.counted_s is None  # "2 stopped" is not the storm's 3
    assert rows([out])[0][6] == "no" and "2 of 3 after 0 s" in rows([out])[0][7]


def test_notifbot_is_held_to_issue_13s_targets_against_alertmanager() -> None:
    am = Outcome("Alertmanager", "batch", 100, messages=1, all_visible_s=1.1)
    today = Outcome("notifbot", "one by one", 100, messages=100, visible=60, largest_message_items=1)
    assert len(targets_missed(today, am)) == 3
    grouped = Outcome(
        "notifbot", "grouped", 100, messages=1, all_visible_s=4.5, counted_s=2.5, count_shown=True
    )
    grouped.largest_message_items = 100
    assert targets_missed(grouped, am) == []
    route = notifbot_config(Path("x.db"), group=True)["routes"][0]
    assert route["group"] == {"by": ["kind", "instance"], "wait": "1s", "interval": "5m", "repeat": "4h"}


@pytest.mark.skipif(storm_am.binary() is None, reason="apt-get install prometheus-alertmanager")
def test_a_real_alertmanager_groups_a_storm_into_one_webhook_message(tmp_path: Path) -> None:
    path = storm_am.binary()
    assert path is not None
    with FakeSlack(token="xoxb-t", min_interval=1.0) as fake:
        am = storm_am.server(path, tmp_path, fake.incoming_webhook("C1")).start()
        try:
            t0 = time.time()
            storm_am.send(am.url, storm_am.alerts(30), storm_am.PROMETHEUS_BATCH)
            out = watch(fake, Outcome("am", "batch", 30), t0=t0, calls_before=0, max_wait=5, settle=0.0)
        finally:
            am.stop()
    assert (out.messages, out.count_429, out.visible, out.count_shown) == (1, 0, 30, True)
    assert out.all_visible_s is not None and 0.9 < out.all_visible_s < 3.0  # group_wait is 1 s
    assert out.counted_s == out.all_visible_s  # its one message names them all and says how many
