"""Group lifecycle decisions: when a group's message is posted, edited, added to in its thread, or started afresh.

Pure functions of a group's state, its policy and the time; the store keeps the state, the worker acts on the
steps. One message per group: the first post waits `wait` to collect a burst; later events edit it in place at
most once per EDIT_GAP_SECONDS (Slack allows about one `chat.update` per second per message) and are listed in its
thread at most once per `interval`; a group still firing `repeat` after its post starts a fresh message. A
destination that cannot edit (a Teams workflow) gets one summary post per `interval` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from notifbot.durations import format_duration
from notifbot.model import Acked, Notification, Severity

EDIT_GAP_SECONDS = 1.0  # at most one in-place edit per second per message
FIRST_DETAIL_SECONDS = 1.0  # after the post, the thread gets the items the message could not list this soon


@dataclass(frozen=True)
class GroupPolicy:
    """How a destination groups a route's notifications: the `by` keys and the three timers."""

    by: tuple[str, ...]
    wait: timedelta
    interval: timedelta
    repeat: timedelta
    thread: bool = True  # list the events in the message's thread (the default repeat grouping only counts)

    @property
    def describe(self) -> str:
        """e.g. `by kind, instance; wait 30s, interval 5m, repeat 4h`."""
        times = (format_duration(t) for t in (self.wait, self.interval, self.repeat))
        return f"by {', '.join(self.by)}; wait {next(times)}, interval {next(times)}, repeat {next(times)}"


@dataclass(frozen=True)
class Reminder:
    """Re-notify an unacknowledged group in its thread every `after`, at most `max` times (route `remind`)."""

    after: timedelta
    max: int
    least: Severity = Severity.CRITICAL  # the least severe group reminded
    mention: str | None = None  # written by the admin in config (a Slack mention), never from event text


@dataclass(frozen=True)
class GroupRef:
    """The group an event joins at one destination: its stored identity, readable key and policy."""

    key_id: str
    key: str
    policy: GroupPolicy
    can_edit: bool = True  # the destination edits messages in place (else: summaries once per interval)
    remind: Reminder | None = None


class Action(StrEnum):
    """What a group's message needs next."""

    POST = "post"  # no message yet: post one showing everything so far
    EDIT = "edit"  # the message shows fewer events (or another state) than the group has: edit it in place
    REPLY = "reply"  # events not yet listed in the thread: add them there
    REMIND = "remind"  # still firing and unacknowledged: say so again in the thread
    SUMMARY = "summary"  # a destination that cannot edit: post a summary of what is new


@dataclass(frozen=True)
class GroupState:
    """What the store knows about one group's message (times in epoch seconds)."""

    opened_at: float  # when its first event was accepted
    count: int  # events in the group
    shown: int = 0  # events the message shows (its count)
    listed: int = 0  # events listed in its thread (or in summaries, without edits)
    posted_at: float | None = None  # None: no message yet
    edited_at: float | None = None  # the last post or edit
    replied_at: float | None = None  # the last thread reply (or summary post)
    resolved: bool = False  # resolved; the message must say so
    shown_resolved: bool = False  # the message says resolved
    reply_goal: int = 0  # the count the thread listing in progress goes up to (a reply holds THREAD_ITEMS)
    told_resolved: bool = False  # its thread says it resolved (or it was posted resolved)
    acked: bool = False  # someone acknowledged it
    shown_acked: bool = False  # its message says so
    severity: Severity = Severity.WARNING  # its most severe event
    reminders: int = 0  # reminders sent
    reminded_at: float | None = None  # the last reminder


@dataclass(frozen=True)
class Step:
    """The actions due now (in order), and when the group needs looking at again (None: not until it changes)."""

    actions: tuple[Action, ...]
    next_at: float | None


def joins(state: GroupState, policy: GroupPolicy, now: float) -> bool:
    """True when a new event joins this group's message; False when it must start a fresh one (repeat, resolved)."""
    if state.resolved:
        return False
    return state.posted_at is None or now < state.posted_at + policy.repeat.total_seconds()


def first_due(opened_at: float, policy: GroupPolicy) -> float:
    """When a new group's first message is due."""
    return opened_at + policy.wait.total_seconds()


def step(
    state: GroupState,
    policy: GroupPolicy,
    now: float,
    *,
    can_edit: bool = True,
    remind: Reminder | None = None,
) -> Step:
    """The actions due at `now` and when to look again, as a pure function of the group's state."""
    interval = policy.interval.total_seconds()
    if state.posted_at is None:
        due = first_due(state.opened_at, policy)
        return Step((Action.POST,), None) if now >= due else Step((), due)
    if not can_edit:
        if state.count <= state.listed and not (state.resolved and not state.shown_resolved):
            return Step((), None)
        due = (state.replied_at or state.posted_at) + interval
        if state.resolved and not state.shown_resolved:
            due = now
        return Step((Action.SUMMARY,), None) if now >= due else Step((), due)
    actions: list[Action] = []
    later: list[float] = []
    stale = (
        state.count > state.shown
        or state.resolved != state.shown_resolved
        or state.acked != state.shown_acked
    )
    if stale:
        due = (state.edited_at or state.posted_at) + EDIT_GAP_SECONDS
        if (state.resolved and not state.shown_resolved) or (state.acked and not state.shown_acked):
            due = now  # a resolve or an acknowledgement is shown at once
        (actions.append(Action.EDIT) if now >= due else later.append(due))
    if policy.thread and state.count > state.listed:
        # the first detail follows the post at once; later ones once per interval
        if state.replied_at is None:
            due = state.posted_at + min(FIRST_DETAIL_SECONDS, interval)
        elif state.listed < state.reply_goal:  # a listing longer than one reply goes on at the channel's pace
            due = state.replied_at
        else:
            due = state.replied_at + interval
        (actions.append(Action.REPLY) if now >= due else later.append(due))
    elif state.resolved and state.shown_resolved and not state.told_resolved:
        actions.append(Action.REPLY)  # "resolved", in the thread, once the message says so
    if remind is not None and _remindable(state, remind):
        due = (state.reminded_at or state.posted_at) + remind.after.total_seconds()
        (actions.append(Action.REMIND) if now >= due else later.append(due))
    return Step(tuple(actions), min(later) if later else None)


def _remindable(state: GroupState, remind: Reminder) -> bool:
    """A group is reminded while it fires unacknowledged at or above the route's severity, up to `max` times."""
    serious = state.severity.priority >= remind.least.priority
    return serious and not (state.acked or state.resolved) and state.reminders < remind.max


@dataclass(frozen=True)
class GroupView:
    """What a group's message shows: its first event as the face, the count, the time span and the first items."""

    # the group's first event: its identity in the channel (message metadata, card marker)
    first: Notification
    count: int
    first_seen: datetime
    last_seen: datetime
    items: tuple[str, ...]  # raw (unescaped) labels of the first events, at most MESSAGE_ITEMS
    severity: Severity
    state: str = "firing"  # firing | resolved (an acknowledgement is `acked`)
    key: str = ""
    acked: Acked | None = None  # who acknowledged it
    # the event the message shows when not the first (the latest, for repeats)
    face: Notification | None = None
    digest: str | None = None  # set: a digest's summary (period and mix), shown instead of the time span

    @property
    def shown(self) -> Notification:
        """The event the message is rendered from."""
        return self.face or self.first

    @property
    def more(self) -> int:
        """Events beyond the listed items."""
        return max(0, self.count - len(self.items))


MESSAGE_ITEMS = 10  # items a group's message lists itself; the rest are in its thread


@dataclass(frozen=True)
class ThreadItems:
    """A thread reply of a group's message: items `first`… (1-based) of `total`, the news that it resolved, or a
    reminder that it still fires (with the route's mention)."""

    items: tuple[str, ...]
    first: int
    total: int
    resolved: bool = False
    reminder: str | None = None  # set: "still firing" text (our own wording)
    mention: str | None = None  # put before a reminder: the route's `remind.mention`, from config


THREAD_ITEMS = 250  # items per thread reply (a Slack reply holds them in up to 50 sections)
