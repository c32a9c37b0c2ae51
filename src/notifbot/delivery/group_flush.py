"""One claim of an alert group's outbox row: the first action `groups.step` says is due, through the group sender.

One API call per claim, so the channel's pacing spaces a group's posts, edits and thread replies like any other
send; what is still due afterwards leaves the row due again (store/groups.record_flush decides, in one transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from notifbot.groups import MESSAGE_ITEMS, THREAD_ITEMS, Action, GroupView, ThreadItems, step
from notifbot.i18n import EN, Texts
from notifbot.kinds import item_label
from notifbot.store.groups import Done, Flush, load_flush
from notifbot.store.outbox import OutboxRow
from notifbot.store.runner import Database

Send = Callable[[], Awaitable[str | None]]


@runtime_checkable
class GroupSender(Protocol):
    """A sender that shows an alert group as one message: posted, edited in place, detailed in its thread."""

    can_edit: bool  # False: no edits or threads; one summary post per interval instead

    def texts(self, target: str) -> Texts:
        """The language and time zone of the channel `target` (reminders, digest lines, item labels)."""
        ...

    async def post_group(self, row: OutboxRow, view: GroupView) -> str | None: ...

    async def edit_group(self, row: OutboxRow, message_id: str, view: GroupView) -> None: ...

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None: ...


@dataclass(frozen=True)
class GroupAttempt:
    """The call to make now and what to record when it succeeds."""

    send: Send
    done: Callable[[str | None], Done]


def _replying(sender: GroupSender, row: OutboxRow, message_id: str, reply: ThreadItems) -> Send:
    """The call posting `reply` in the thread of the group's message (a reply's id is not kept)."""

    async def send() -> str | None:
        await sender.reply_group(row, message_id, reply)
        return None

    return send


def reminder_text(t: Texts, view: GroupView, number: int, most: int) -> str:
    """ "Still firing and not acknowledged: 3 events since …, the last … (reminder 1 of 3)"."""
    return t._(
        "Still firing and not acknowledged: {events} since {first}, the last {last} (reminder {number} of {most})"
    ).format(
        events=t.ngettext("{n} event", "{n} events", view.count).format(n=t.count(view.count)),
        first=t.when(view.first_seen),
        last=t.when(view.last_seen),
        number=number,
        most=most,
    )


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def view_of(flush: Flush, t: Texts = EN) -> GroupView:
    """The group's message content, from what the store holds (its items in `t`'s language)."""
    items = tuple(item_label(n, t) for n in flush.head[:MESSAGE_ITEMS]) if flush.policy.thread else ()
    return GroupView(
        first=flush.first,
        count=flush.state.count,
        first_seen=_when(flush.state.opened_at),
        last_seen=_when(flush.last_seen),
        items=items,
        severity=flush.state.severity,
        state="resolved" if flush.state.resolved else "firing",
        key=flush.key,
        acked=flush.acked,
        face=None if flush.policy.thread else flush.last,  # a repeating problem shows its latest occurrence
    )


async def prepare(
    db: Database, row: OutboxRow, sender: GroupSender, now: float
) -> tuple[Flush | None, GroupAttempt | None]:
    """The group behind `row` and the attempt due now (None: nothing is due, or the group is gone)."""
    assert row.group_id is not None
    flush = await db.call(load_flush, row.group_id, head=MESSAGE_ITEMS, unlisted=THREAD_ITEMS)
    if flush is None:
        return None, None
    due = step(flush.state, flush.policy, now, can_edit=sender.can_edit, remind=flush.remind)
    if not due.actions:
        return flush, None
    t = sender.texts(row.target)
    action, state, view = due.actions[0], flush.state, view_of(flush, t)
    all_in_message = state.count <= MESSAGE_ITEMS or not flush.policy.thread
    message_id = flush.message_id or row.provider_message_id or ""
    if action is Action.POST:
        listed = state.count if all_in_message or not sender.can_edit else 0
        resolved = state.resolved  # posted resolved: nothing more to say in its thread
        return flush, GroupAttempt(
            lambda: sender.post_group(row, view),
            lambda mid: Done(
                (Action.POST,),
                mid,
                state.count,
                listed,
                resolved,
                told_resolved=resolved,
                shown_acked=state.acked,
            ),
        )
    if action is Action.SUMMARY:
        return flush, GroupAttempt(
            lambda: sender.post_group(row, view),
            lambda mid: Done((Action.SUMMARY,), None, state.count, state.count, state.resolved),
        )
    if action is Action.EDIT:
        listed = state.count if all_in_message else state.listed

        async def edit() -> str | None:
            await sender.edit_group(row, message_id, view)
            return None

        return flush, GroupAttempt(
            edit,
            lambda _: Done(
                (Action.EDIT,), None, state.count, listed, state.resolved, shown_acked=state.acked
            ),
        )
    if action is Action.REMIND:
        assert flush.remind is not None
        reminder = ThreadItems(
            (),
            state.count,
            state.count,
            reminder=reminder_text(t, view, state.reminders + 1, flush.remind.max),
            mention=flush.remind.mention,
        )

        return flush, GroupAttempt(
            _replying(sender, row, message_id, reminder),
            lambda _: Done((Action.REMIND,), None, state.shown, state.listed, reminded=True),
        )
    if state.count <= state.listed or not flush.policy.thread:  # all listed: the reply says it resolved
        done_reply = ThreadItems((), state.count, state.count, resolved=True)
        return flush, GroupAttempt(
            _replying(sender, row, message_id, done_reply),
            lambda _: Done((Action.REPLY,), None, state.shown, state.listed, told_resolved=True),
        )
    items = tuple(item_label(n, t) for n in flush.unlisted)
    reply = ThreadItems(items, state.listed + 1, state.count)
    goal = state.reply_goal if state.listed < state.reply_goal else state.count  # go on, or begin a listing
    return flush, GroupAttempt(
        _replying(sender, row, message_id, reply),
        lambda _: Done((Action.REPLY,), None, state.shown, state.listed + len(items), reply_goal=goal),
    )
