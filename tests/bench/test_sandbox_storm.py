"""The sandbox storm bench's verdict: each of §7.2's targets is checked and said when missed."""

from __future__ import annotations

from dataclasses import replace

from bench.sandbox_storm import targets_missed

from tests.browser.sandbox_storm import Storm

MET = Storm(200, ack_latency_s=1.0, reply_latency_s=0.3, messages=150, repeated=50, teams_cards=(150, 150))


def test_a_storm_within_every_target_misses_none() -> None:
    assert targets_missed(MET) == []
    assert targets_missed(replace(MET, long_tasks_ms=[60, 200])) == []


def test_each_missed_target_is_named() -> None:
    missed = targets_missed(
        replace(
            MET,
            ack_latency_s=2.5,
            reply_latency_s=2.01,
            long_tasks_ms=[201],
            repeated=49,
            missing=["1.000001"],
            teams_cards=(149, 150),
            axe=["color-contrast"],
        )
    )
    assert [m.split(" ", 2)[:2] for m in missed] == [
        ["the", "click's"],
        ["the", "command's"],
        ["long", "tasks"],
        ["150", "messages"],
        ["1", "message(s)"],
        ["Teams", "cards"],
        ["axe:", "['color-contrast']"],
    ]
