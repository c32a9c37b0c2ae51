"""Group lifecycle decisions: one post per group, edits at most once a second, thread detail once per interval."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from notifbot.groups import (
    EDIT_GAP_SECONDS,
    THREAD_ITEMS,
    Action,
    GroupPolicy,
    GroupState,
    Reminder,
    Step,
    first_due,
    joins,
    step,
)
from notifbot.model import Severity

POLICY = GroupPolicy(("kind", "instance"), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
QUIET = GroupPolicy(("problem",), timedelta(0), timedelta(minutes=10), timedelta(days=1), thread=False)
T0 = 1_800_000_000.0


def test_a_new_group_waits_then_posts() -> None:
    s = GroupState(opened_at=T0, count=3)
    assert step(s, POLICY, T0 + 10) == Step((), T0 + 30)
    assert step(s, POLICY, T0 + 30) == Step((Action.POST,), None)
    assert first_due(T0, POLICY) == T0 + 30


def test_after_the_post_edits_are_spaced_and_detail_follows_in_the_thread() -> None:
    posted = GroupState(T0, count=5, shown=5, listed=0, posted_at=T0 + 30, edited_at=T0 + 30)
    assert step(posted, POLICY, T0 + 30) == Step((), T0 + 31)  # the thread detail follows a second later
    assert step(posted, POLICY, T0 + 31).actions == (Action.REPLY,)
    more = replace(posted, count=9, listed=5, replied_at=T0 + 31)
    assert step(more, POLICY, T0 + 30.5) == Step((), T0 + 30 + EDIT_GAP_SECONDS)
    assert step(more, POLICY, T0 + 40) == Step((Action.EDIT,), T0 + 31 + 300)
    assert step(more, POLICY, T0 + 331).actions == (Action.EDIT, Action.REPLY)


def test_a_resolve_is_shown_at_once_and_a_resolved_group_takes_no_more_events() -> None:
    s = GroupState(T0, 2, 2, 2, T0, T0 + 100, T0 + 100, resolved=True)
    assert step(s, POLICY, T0 + 100.1).actions == (Action.EDIT,)
    assert not joins(s, POLICY, T0 + 101)
    shown = replace(s, shown_resolved=True)
    assert step(shown, POLICY, T0 + 101) == Step((Action.REPLY,), None)  # then "resolved" in its thread, once
    assert step(replace(shown, told_resolved=True), POLICY, T0 + 101) == Step((), None)
    unposted = GroupState(T0, 3, resolved=True)  # resolved within its wait: posted resolved, nothing after
    assert step(unposted, POLICY, T0 + 30).actions == (Action.POST,)


def test_repeat_starts_a_fresh_message() -> None:
    s = GroupState(T0, 2, 2, 2, posted_at=T0 + 30, edited_at=T0 + 30)
    assert joins(s, POLICY, T0 + 30 + 4 * 3600 - 1)
    assert not joins(s, POLICY, T0 + 30 + 4 * 3600)
    assert joins(GroupState(T0, 1), POLICY, T0 + 10**6)  # not posted yet: always joins


def test_without_edits_a_summary_is_posted_once_per_interval() -> None:
    s = GroupState(T0, 10, 10, 10, posted_at=T0 + 30, edited_at=T0 + 30)
    assert step(s, POLICY, T0 + 40, can_edit=False) == Step((), None)
    s = replace(s, count=12)
    assert step(s, POLICY, T0 + 40, can_edit=False) == Step((), T0 + 330)
    assert step(s, POLICY, T0 + 330, can_edit=False).actions == (Action.SUMMARY,)


def test_the_default_repeat_grouping_only_counts() -> None:
    quiet = replace(POLICY, thread=False)
    s = GroupState(T0, 4, 1, 0, posted_at=T0, edited_at=T0)
    assert step(s, quiet, T0 + 2) == Step((Action.EDIT,), None)


@given(
    st.lists(st.floats(min_value=0, max_value=900, allow_nan=False), min_size=1, max_size=450),
    st.sampled_from([0, 1, 30]),
    st.sampled_from([1, 5, 300]),
    st.booleans(),
)
def test_any_storm_gives_one_post_spaced_edits_and_every_event_shown(
    arrivals: list[float], wait: int, interval: int, can_edit: bool
) -> None:
    """A simulated worker acting on `step` at the times it names: the invariants of the issue hold."""
    policy = GroupPolicy(("kind",), timedelta(seconds=wait), timedelta(seconds=interval), timedelta(days=1))
    times = sorted(T0 + a for a in arrivals)
    s = GroupState(times[0], 0)
    calls: list[tuple[float, Action]] = []
    starts: list[float] = []  # when each thread listing (or summary) began
    pending = list(times)
    now = times[0]
    for _ in range(10_000):
        while pending and pending[0] <= now:
            pending.pop(0)
            s = replace(s, count=s.count + 1)
        due = step(s, policy, now, can_edit=can_edit)
        for action in due.actions:
            calls.append((now, action))
            if action is Action.POST:
                s = replace(s, posted_at=now, edited_at=now, shown=s.count, listed=0 if can_edit else s.count)
            elif action is Action.EDIT:
                s = replace(s, edited_at=now, shown=s.count)
            else:  # a reply lists at most THREAD_ITEMS; a longer listing goes on at once
                begins = s.listed >= s.reply_goal
                goal = s.count if begins else s.reply_goal
                if begins:
                    starts.append(now)
                listed = s.count if action is Action.SUMMARY else min(s.count, s.listed + THREAD_ITEMS)
                s = replace(s, replied_at=now, listed=listed, reply_goal=goal)
        if due.actions:
            continue  # look again at the same moment: nothing else may be due now
        wakes = [t for t in (due.next_at, pending[0] if pending else None) if t is not None]
        if not wakes:
            break
        now = min(wakes)
    else:
        raise AssertionError("the group never settled")
    assert [a for _, a in calls].count(Action.POST) == 1
    assert s.shown == len(times) if can_edit else s.listed == len(times)
    edits = [t for t, a in calls if a is Action.EDIT]
    assert all(b - a >= EDIT_GAP_SECONDS - 1e-9 for a, b in itertools.pairwise(edits))
    assert all(b - a >= interval - 1e-9 for a, b in itertools.pairwise(starts))
    if can_edit and policy.thread:
        assert s.listed == len(times)  # every event ends up listed in the thread
    assert calls[0] == (times[0] + wait, Action.POST)
    if can_edit:  # the whole storm is visible at most an edit gap after its last event (or the first post)
        shown_at = max(t for t, a in calls if a in (Action.POST, Action.EDIT))
        assert shown_at <= max(times[-1], times[0] + wait) + EDIT_GAP_SECONDS + 1e-9


def test_reminders_follow_after_stop_at_max_and_on_ack_or_resolve() -> None:
    remind = Reminder(timedelta(hours=4), 2, Severity.CRITICAL)
    s = GroupState(T0, 1, 1, 1, posted_at=T0, edited_at=T0, severity=Severity.CRITICAL)
    assert step(s, QUIET, T0 + 60, remind=remind) == Step((), T0 + 4 * 3600)
    assert step(s, QUIET, T0 + 4 * 3600, remind=remind).actions == (Action.REMIND,)
    again = replace(s, reminders=1, reminded_at=T0 + 4 * 3600)
    assert step(again, QUIET, T0 + 8 * 3600, remind=remind).actions == (Action.REMIND,)
    assert step(replace(again, reminders=2), QUIET, T0 + 99 * 3600, remind=remind) == Step((), None)
    acked = replace(s, acked=True)
    assert step(acked, QUIET, T0 + 5 * 3600, remind=remind).actions == (
        Action.EDIT,
    )  # shows the ack, no reminder
    assert step(replace(acked, shown_acked=True), QUIET, T0 + 5 * 3600, remind=remind) == Step((), None)
    warning = replace(s, severity=Severity.WARNING)  # below the route's `remind.severity`
    assert step(warning, QUIET, T0 + 5 * 3600, remind=remind) == Step((), None)
