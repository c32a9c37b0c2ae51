"""Alert groups in the store: events join a group's open episode, and its one outbox row is armed when work is due.

`join` runs inside the ingest transaction (store/events.py), so an accepted event is a counted member of its group
and the group's outbox row is due when `groups.step` says so, all in one commit: a crash inside a group window loses
no event and, since a group has exactly one outbox row per episode, posts no second message. The worker reads a
group with `load_flush` and records what it did with `record_flush`, which also decides, from the state it then
reads, whether the row is due again or done (one transaction, so an event joining meanwhile is never missed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from notifbot.groups import Action, GroupPolicy, GroupRef, GroupState, Reminder, joins, step
from notifbot.model import Acked, Notification, Severity
from notifbot.store.conn import Conn, Row
from notifbot.store.db import transaction
from notifbot.store.dialect import lock_keys
from notifbot.store.rows import notification_from_row


@dataclass(frozen=True)
class Flush:
    """What the worker needs to act on one group: its state, policy, first event and the events not yet listed."""

    group_id: int
    key: str
    state: GroupState
    policy: GroupPolicy
    message_id: str | None
    first: Notification
    last: Notification
    last_seen: float
    unlisted: list[Notification]  # members after `state.listed`, in order (bounded by the caller's limit)
    remind: Reminder | None  # the route's `remind`
    acked: Acked | None  # who acknowledged the group's message
    head: list[Notification]  # the first members, for the message's own list


def _state(row: Row) -> GroupState:
    return GroupState(
        opened_at=row["opened_at"],
        count=row["count"],
        shown=row["shown"],
        listed=row["listed"],
        posted_at=row["posted_at"],
        edited_at=row["edited_at"],
        replied_at=row["replied_at"],
        resolved=row["state"] == "resolved",
        shown_resolved=row["shown_state"] == "resolved",
        reply_goal=row["reply_goal"],
        told_resolved=bool(row["told_resolved"]),
        acked=bool(row["acked"]),
        shown_acked=bool(row["shown_acked"]),
        severity=Severity(row["severity"]),
        reminders=row["reminders"],
        reminded_at=row["reminded_at"],
    )


def reminder_of(row: Row) -> Reminder | None:
    """The route's `remind` as stored with the group, or None."""
    if row["remind_after"] is None:
        return None
    return Reminder(
        timedelta(seconds=row["remind_after"]),
        row["remind_max"],
        Severity(row["remind_least"]),
        row["remind_mention"],
    )


def _policy(row: Row) -> GroupPolicy:
    return GroupPolicy(
        tuple(json.loads(row["by_keys"])),
        timedelta(seconds=row["wait_seconds"]),
        timedelta(seconds=row["interval_seconds"]),
        timedelta(seconds=row["repeat_seconds"]),
        thread=bool(row["thread"]),
    )


def _next_due(conn: Conn, group_id: int, can_edit: bool, now: float) -> tuple[Row, float | None]:
    """The group's row as stored now, and when its next step is due (`now` if due already; None: nothing due)."""
    row: Row = conn.execute("SELECT * FROM alert_groups WHERE id = ?", (group_id,)).fetchone()
    due = step(_state(row), _policy(row), now, can_edit=can_edit, remind=reminder_of(row))
    return row, now if due.actions else due.next_at


def _arm(conn: Conn, group_id: int, can_edit: bool, now: float) -> None:
    """Makes the group's outbox row due when its next step is (a dead row waits for `outbox retry`)."""
    _, next_at = _next_due(conn, group_id, can_edit, now)
    if next_at is None:
        return
    conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = 0, last_error = NULL, next_attempt_at = ?"
        " WHERE group_id = ? AND status = 'delivered'",
        (next_at, group_id),
    )
    conn.execute(
        "UPDATE outbox SET next_attempt_at = LEAST(next_attempt_at, ?)"
        " WHERE group_id = ? AND status = 'pending' AND last_error IS NULL",
        (next_at, group_id),
    )


@dataclass(frozen=True)
class Join:
    """One stored event joining (or resolving) its group at one destination (name, type, target)."""

    event_id: int
    severity: Severity
    ref: GroupRef
    destination: tuple[str, str, str]
    resolved: bool = False


def join(
    conn: Conn,
    event_id: int,
    severity: Severity,
    ref: GroupRef,
    destination: tuple[str, str, str],
    now: float,
    *,
    resolved: bool = False,
) -> int | None:
    """One event joins its group (see join_many); returns the group id (None: a resolve with no open group)."""
    return join_many(conn, [Join(event_id, severity, ref, destination, resolved)], now)[-1]


def lock_key(key_id: str) -> str:
    """The text key `join_many` locks a group by (dialect.lock_keys), so one episode per key opens at a time."""
    return "group:" + key_id


def join_many(conn: Conn, joins: Sequence[Join], now: float) -> list[int | None]:
    """Adds events to their groups' open episodes (opening one, with its outbox row, where needed), in order.

    Call inside the ingest transaction. Consecutive events of one group are added with a few statements whatever
    their number (a storm costs what one event does); a resolving event marks the open episode resolved instead,
    so the next event of that group opens a new one. Returns the group id per join, in order.
    """
    lock_keys(conn, *(lock_key(j.ref.key_id) for j in joins))
    out: dict[int, int | None] = {}
    by_key: dict[str, list[tuple[int, Join]]] = {}
    for i, j in enumerate(joins):
        by_key.setdefault(j.ref.key_id, []).append((i, j))
    for items in by_key.values():
        run: list[tuple[int, Join]] = []
        for i, j in items:
            if not j.resolved:
                run.append((i, j))
                continue
            if run:
                out.update(_join_run(conn, run, now))
                run = []
            out[i] = _resolve(conn, j, now)
        if run:
            out.update(_join_run(conn, run, now))
    return [out[i] for i in range(len(joins))]


def _open(conn: Conn, key_id: str) -> Row | None:
    row: Row | None = conn.execute(
        "SELECT * FROM alert_groups WHERE key_id = ? AND closed = 0", (key_id,)
    ).fetchone()
    return row


def _resolve(conn: Conn, j: Join, now: float) -> int | None:
    """The problem is over: its open group (if any) says so; nothing new is posted otherwise."""
    open_row = _open(conn, j.ref.key_id)
    if open_row is None or open_row["state"] == "resolved":
        return None
    conn.execute(
        "UPDATE alert_groups SET state = 'resolved', resolved_at = ? WHERE id = ?", (now, open_row["id"])
    )
    _arm(conn, int(open_row["id"]), j.ref.can_edit, now)
    return int(open_row["id"])


def _join_run(conn: Conn, run: list[tuple[int, Join]], now: float) -> dict[int, int | None]:
    """Consecutive firing events of one group: into its open episode, or a new one opened by the first."""
    first = run[0][1]
    ref, policy = first.ref, first.ref.policy
    open_row = _open(conn, ref.key_id)
    if open_row is not None and _joins(open_row, policy, now):
        group_id, count, severity = (
            int(open_row["id"]),
            int(open_row["count"]),
            Severity(open_row["severity"]),
        )
        rest = run
    else:
        if open_row is not None:
            conn.execute("UPDATE alert_groups SET closed = 1 WHERE id = ?", (open_row["id"],))
        group_id, count, severity = _open_group(conn, first, now), 1, first.severity
        rest = run[1:]
    if rest:
        conn.executemany(
            "INSERT INTO alert_group_events (group_id, seq, event_id) VALUES (?, ?, ?)",
            [(group_id, count + n, j.event_id) for n, (_, j) in enumerate(rest, start=1)],
        )
        worst = max((j.severity for _, j in rest), key=lambda v: v.priority)
        worse = worst.priority > severity.priority
        conn.execute(
            "UPDATE alert_groups SET count = ?, last_seen = ?, last_event_id = ?, severity = ? WHERE id = ?",
            (count + len(rest), now, rest[-1][1].event_id, (worst if worse else severity).value, group_id),
        )
        if worse:  # the group's message goes before less severe ones in its channel from now on
            conn.execute("UPDATE outbox SET priority = ? WHERE group_id = ?", (worst.priority, group_id))
        _arm(conn, group_id, ref.can_edit, now)
    return {i: group_id for i, _ in run}


def _open_group(conn: Conn, j: Join, now: float) -> int:
    """A new episode of `j`'s group, with `j` its first event and its one outbox row (due after `wait`)."""
    ref, policy, remind = j.ref, j.ref.policy, j.ref.remind
    group_id = int(
        conn.execute(
            "INSERT INTO alert_groups (key_id, group_key, destination, by_keys, wait_seconds, interval_seconds,"
            " repeat_seconds, thread, first_event_id, last_event_id, severity, opened_at, last_seen,"
            " remind_after, remind_max, remind_least, remind_mention)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (
                ref.key_id,
                ref.key,
                j.destination[0],
                json.dumps(list(policy.by)),
                policy.wait.total_seconds(),
                policy.interval.total_seconds(),
                policy.repeat.total_seconds(),
                int(policy.thread),
                j.event_id,
                j.event_id,
                j.severity.value,
                now,
                now,
                remind.after.total_seconds() if remind else None,
                remind.max if remind else None,
                remind.least.value if remind else None,
                remind.mention if remind else None,
            ),
        ).fetchone()[0]
    )
    conn.execute(
        "INSERT INTO alert_group_events (group_id, seq, event_id) VALUES (?, 1, ?)", (group_id, j.event_id)
    )
    conn.execute(
        "INSERT INTO outbox (event_id, destination, dest_type, target, priority, next_attempt_at, created_at,"
        " group_id) VALUES (?,?,?,?,?,?,?,?)",
        (j.event_id, *j.destination, j.severity.priority, now + policy.wait.total_seconds(), now, group_id),
    )
    return group_id


def _joins(row: Row, policy: GroupPolicy, now: float) -> bool:
    return joins(_state(row), policy, now)


def _members(conn: Conn, group_id: int, after: int, limit: int) -> list[Notification]:
    rows = conn.execute(
        "SELECT e.* FROM alert_group_events g JOIN events e ON e.id = g.event_id"
        " WHERE g.group_id = ? AND g.seq > ? ORDER BY g.seq LIMIT ?",
        (group_id, after, limit),
    ).fetchall()
    return [notification_from_row(r) for r in rows]


def _acked(conn: Conn, group_id: int) -> Acked | None:
    row = conn.execute(
        "SELECT acked_by, acked_at FROM outbox WHERE group_id = ? AND acked_by IS NOT NULL LIMIT 1",
        (group_id,),
    ).fetchone()
    return None if row is None else Acked(row["acked_by"], datetime.fromtimestamp(row["acked_at"], UTC))


def acknowledge_group(conn: Conn, group_id: int, now: float, can_edit: bool = True) -> None:
    """Marks a group acknowledged (inside the caller's transaction): its message says so and reminders stop."""
    conn.execute("UPDATE alert_groups SET acked = 1 WHERE id = ?", (group_id,))
    _arm(conn, group_id, can_edit, now)


def load_flush(conn: Conn, group_id: int, *, head: int, unlisted: int) -> Flush | None:
    """The group as the worker acts on it: `head` first members and up to `unlisted` not yet listed."""
    row = conn.execute("SELECT * FROM alert_groups WHERE id = ?", (group_id,)).fetchone()
    if row is None:
        return None
    first = conn.execute("SELECT * FROM events WHERE id = ?", (row["first_event_id"],)).fetchone()
    last = conn.execute("SELECT * FROM events WHERE id = ?", (row["last_event_id"],)).fetchone()
    state = _state(row)
    return Flush(
        group_id=group_id,
        key=row["group_key"],
        state=state,
        policy=_policy(row),
        message_id=row["message_id"],
        first=notification_from_row(first),
        last=notification_from_row(last),
        last_seen=row["last_seen"],
        unlisted=_members(conn, group_id, state.listed, unlisted),
        remind=reminder_of(row),
        acked=_acked(conn, group_id),
        head=_members(conn, group_id, 0, head),
    )


@dataclass(frozen=True)
class Done:
    """What one flush did: the actions taken, and the counts each one showed."""

    actions: tuple[Action, ...]
    message_id: str | None  # set by a post
    shown: int  # the count the post or edit showed
    listed: int  # members listed up to (thread or summary)
    shown_resolved: bool = False
    reply_goal: int = 0  # a thread listing begun: the count it goes up to
    told_resolved: bool = False  # the thread says resolved (or the post showed it)
    shown_acked: bool = False  # the post or edit showed the acknowledgement
    reminded: bool = False  # a reminder went to the thread


def record_flush(
    conn: Conn, row_id: int, group_id: int, done: Done, can_edit: bool, now: float
) -> float | None:
    """Records a flush and, from the state now stored, leaves the row due again (returned time) or delivered."""
    with transaction(conn):
        sets: list[str] = []
        params: list[object] = []
        if Action.POST in done.actions:
            sets += ["message_id = ?", "posted_at = ?", "edited_at = ?", "shown = ?"]
            params += [done.message_id, now, now, done.shown]
        if Action.EDIT in done.actions:
            sets += ["edited_at = ?", "shown = GREATEST(shown, ?)"]
            params += [now, done.shown]
        if Action.REPLY in done.actions or Action.SUMMARY in done.actions:
            sets += ["replied_at = ?", "reply_goal = GREATEST(reply_goal, ?)"]
            params += [now, done.reply_goal]
        if done.actions:
            sets += ["listed = GREATEST(listed, ?)"]
            params += [done.listed]
        if done.shown_resolved:
            sets += ["shown_state = 'resolved'"]
        if done.told_resolved:
            sets += ["told_resolved = 1"]
        if done.shown_acked:
            sets += ["shown_acked = 1"]
        if done.reminded:
            sets += ["reminders = reminders + 1", "reminded_at = ?"]
            params += [now]
        if sets:
            conn.execute(f"UPDATE alert_groups SET {', '.join(sets)} WHERE id = ?", (*params, group_id))
        row, next_at = _next_due(conn, group_id, can_edit, now)
        if next_at is None:
            conn.execute(
                "UPDATE outbox SET status = 'delivered', provider_message_id = ?, delivered_at = ?,"
                " attempts = attempts + 1, last_error = NULL, claimed_by = NULL, lease_until = NULL,"
                " unsure_since = NULL WHERE id = ?",
                (row["message_id"], now, row_id),
            )
        else:
            conn.execute(
                "UPDATE outbox SET provider_message_id = ?, next_attempt_at = ?, attempts = 0, last_error = NULL,"
                " claimed_by = NULL, lease_until = NULL, unsure_since = NULL WHERE id = ?",
                (row["message_id"], next_at, row_id),
            )
    return next_at
