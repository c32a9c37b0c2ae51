"""Pacing and backoff are pure enough to test with a fake clock."""

from __future__ import annotations

import itertools

from notifbot.delivery.pacing import Pacer
from notifbot.delivery.policy import backoff


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_spaces_sends_from_completion() -> None:
    clock = Clock()
    p = Pacer(1.0, clock)
    assert p.delay() == 0
    p.sent()
    assert p.delay() == 1.0
    clock.now += 0.4
    assert abs(p.delay() - 0.6) < 1e-9
    p.block(5)  # Retry-After pushes further, never closer
    assert abs(p.delay() - 5) < 1e-9
    p.block(1)
    assert abs(p.delay() - 5) < 1e-9


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    low = [backoff(n, base=2, cap=600, rand=lambda: 0.0) for n in range(1, 12)]
    high = [backoff(n, base=2, cap=600, rand=lambda: 1.0) for n in range(1, 12)]
    assert low[:4] == [1.0, 2.0, 4.0, 8.0]
    assert high[:4] == [3.0, 6.0, 12.0, 24.0]
    assert max(high) == 900.0 and max(low) == 300.0
    assert all(a <= b for a, b in itertools.pairwise(low))
