"""The status pages' store reads on both backends: mutes in force, what each poller recorded, open alert groups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.sources.marketo.activities import ScanCursor
from notifbot.store.conn import Conn
from notifbot.store.email_cursors import save_email_cursor
from notifbot.store.events import Target, insert_notifications
from notifbot.store.graph_mail_cursors import save_graph_delta_link
from notifbot.store.groups import acknowledge_group
from notifbot.store.marketo_state import record_poll_error, record_poll_success, save_cursor
from notifbot.store.mutes import active_mutes, add_mute
from notifbot.ui.status import (
    GROUPS,
    Moment,
    PollerLine,
    failing_first,
    hint,
    matcher_text,
    moment,
    mute_lines,
    open_groups,
    poller_lines,
)

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 9:00 AM CST


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("instance", "123-ABC-456", "instance=123-ABC-456"),
        ("campaign", "*welcome*", "campaign=*welcome*"),
        ("program", "Q1 webinars", 'program="Q1 webinars"'),
        ("campaign", 'the "VIP" list', "campaign='the \"VIP\" list'"),
        ("campaign", "it's", 'campaign="it\'s"'),
        ("campaign", "tab\there", 'campaign="tab\there"'),
        ("campaign", "“curly”", 'campaign="“curly”"'),
        ("campaign", "", 'campaign=""'),
    ],
)
def test_a_matcher_is_quoted_only_when_the_command_would_need_quotes(
    key: str, value: str, shown: str
) -> None:
    assert matcher_text(key, value) == shown


def test_a_moment_is_utc_iso_and_relative_both_ways() -> None:
    assert moment(None, NOW) is None
    assert moment(ago(5), NOW) == Moment(ago(5).timestamp(), "5 min ago", "2026-12-01T14:55:00Z")
    assert moment(NOW.timestamp() + 7800, NOW) == Moment(
        NOW.timestamp() + 7800, "in 2 h 10 min", "2026-12-01T17:10:00Z"
    )
    assert [moment(NOW + timedelta(seconds=s), NOW).relative for s in (-30, 0, 30)] == ["just now"] * 3  # type: ignore[union-attr]


def test_mutes_in_force_with_their_matchers_until_author_and_reason(store_conn: Conn) -> None:
    conn = store_conn
    add_mute(conn, "engagement", NOW + timedelta(hours=3), "U1", "<b>deploy</b>", ago(30))
    scoped = (("instance", "123-ABC-456"), ("campaign", "Spring sale"))
    add_mute(conn, "all", NOW + timedelta(hours=1), "U2", None, ago(5), scoped)
    add_mute(conn, "audit", ago(1), "U3", "over", ago(60))
    first, second = mute_lines(active_mutes(conn, NOW), NOW)
    assert (first.kind, first.matchers, first.author, first.reason) == (
        "all",
        ("instance=123-ABC-456", 'campaign="Spring sale"'),
        "U2",
        None,
    )
    assert (first.until.relative, first.created) == ("in 1 h", moment(ago(5), NOW))
    assert (second.kind, second.matchers, second.reason, second.until.relative) == (
        "engagement",
        (),
        "<b>deploy</b>",  # escaped by the template, not here
        "in 3 h",
    )


def seed_pollers(conn: Conn) -> None:
    record_poll_success(conn, "123-ABC-456", "activities", ago(90), 10)
    through = ScanCursor(through="2026-12-01T14:30:00Z").dump()
    save_cursor(conn, "123-ABC-456", "activities", through, ago(2), 55)
    record_poll_success(conn, "123-ABC-456", "quota", ago(70), 300)
    record_poll_error(conn, "123-ABC-456", "quota", ago(10), "607 Daily quota reached", 301)
    record_poll_error(conn, "123-ABC-456", "campaigns", ago(60), "timed out")
    record_poll_success(conn, "123-ABC-456", "campaigns", ago(1), 3)  # after the error: ok again
    record_poll_success(conn, "000-AAA-000", "quota", NOW - timedelta(days=1), 999)
    record_poll_success(conn, "000-AAA-000", "backfill", ago(3), 5)  # a poller this page has no name for
    record_poll_error(conn, "mailbox ops", "graph", ago(4), "mailbox 'ops': login refused")
    save_graph_delta_link(conn, "ops", "Inbox", "https://graph.example/delta?token=secret-ish")
    save_email_cursor(conn, "archive", "INBOX", 1, 10)  # a mailbox with a position but no poll recorded
    record_poll_error(conn, "adobe-io", "journal:abc", ago(6), "journal answered 403")
    conn.execute("UPDATE graph_mail_cursors SET updated_at = ?", (ago(4).timestamp(),))
    conn.execute("UPDATE email_cursors SET updated_at = ?", (ago(600).timestamp(),))


def test_every_poller_the_store_recorded_in_groups_with_status_calls_and_positions(store_conn: Conn) -> None:
    seed_pollers(store_conn)
    lines = poller_lines(store_conn, NOW)
    shown = [(line.group, line.source, line.name, line.status, line.calls_today) for line in lines]
    assert shown == [
        ("marketo", "000-AAA-000", "quota watch", "ok", 0),  # yesterday's 999 calls are not today's
        ("marketo", "000-AAA-000", "backfill", "ok", 5),
        ("marketo", "123-ABC-456", "quota watch", "failing", 301),
        ("marketo", "123-ABC-456", "campaign refresh", "ok", 3),
        ("marketo", "123-ABC-456", "activity scan", "ok", 55),
        ("mailbox", "archive", "IMAP", "unknown", None),
        ("mailbox", "ops", "Microsoft Graph", "failing", None),
        ("journal", "Adobe I/O journal", "journal abc", "failing", None),
    ]
    by_name = {(line.source, line.name): line for line in lines}
    scan = by_name["123-ABC-456", "activity scan"]
    assert [(c.label, c.at.relative) for c in scan.cursors] == [("activities applied through", "30 min ago")]
    assert scan.last_success == moment(ago(2), NOW) and scan.hint is None
    graph = by_name["ops", "Microsoft Graph"]
    assert [(c.label, c.at.relative) for c in graph.cursors] == [("Inbox position saved", "4 min ago")]
    assert graph.last_error == "mailbox 'ops': login refused" and graph.last_error_at == moment(ago(4), NOW)
    assert "delta" not in repr(lines)  # positions are shown by age only, never their content
    archive = by_name["archive", "IMAP"]
    assert (archive.last_success, archive.status_text) == (None, "no poll recorded")
    assert [c.at.relative for c in archive.cursors] == ["10 h ago"]
    quota = by_name["123-ABC-456", "quota watch"]
    assert quota.hint is not None and not quota.hint.check_config and "00:00 CT" in quota.hint.text
    assert by_name["123-ABC-456", "campaign refresh"].last_error == "timed out"  # kept as history
    assert [line.status for line in failing_first(lines)][:3] == ["failing"] * 3
    assert {line.group for line in lines} == set(GROUPS)


def test_an_unreadable_activity_cursor_shows_no_position(store_conn: Conn) -> None:
    for cursor in ("not json", json.dumps([1]), json.dumps({"through": 12}), json.dumps({"through": "soon"})):
        save_cursor(store_conn, "123-ABC-456", "activities", cursor, ago(1))
        (line,) = poller_lines(store_conn, NOW)
        assert line.cursors == () and line.status == "ok", cursor


@pytest.mark.parametrize(
    ("group", "error", "says", "check_config"),
    [
        ("marketo", "607 Daily quota reached", "used up", False),
        ("marketo", "601 Access token invalid", "client id and secret", True),
        ("marketo", "HTTP 403", "client id and secret", True),
        ("marketo", "ConnectError: timed out", "reachable", True),
        ("mailbox", "login refused", "email.mailboxes", True),
        ("journal", "journal answered 403", "adobe_io.journal_url", True),
    ],
)
def test_a_failing_poller_says_what_to_check(group: str, error: str, says: str, check_config: bool) -> None:
    found = hint(group, error)  # type: ignore[arg-type]
    assert says in found.text and found.check_config == check_config
    line = PollerLine(group, "x", "y", None, error, moment(ago(1), NOW), None)  # type: ignore[arg-type]
    assert line.hint == found and line.status == "failing"


def test_open_alert_groups_by_state_most_recent_first(store_conn: Conn) -> None:
    conn = store_conn
    policy = GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
    for i, (key, minutes) in enumerate((("a", 30), ("b", 5), ("c", 10))):
        ref = GroupRef(f"g-{key}", f"kind={key}", policy)
        events = [parse_event({"kind": "audit", "id": f"{key}{n}"}, now=ago(minutes)) for n in range(i + 1)]
        target = Target("ops", "slack", "C1", ref)
        insert_notifications(conn, [(e, [target]) for e in events], now=ago(minutes).timestamp())
    (acked,) = conn.execute("SELECT id FROM alert_groups WHERE group_key = ?", ("kind=a",)).fetchone()
    acknowledge_group(conn, int(acked), ago(1).timestamp())
    found = open_groups(conn, NOW, limit=2)
    assert found.by_state == {"acknowledged": 1, "firing": 2} and found.total == 3
    assert [(g.key, g.destinations, g.state, g.count, g.last_seen.relative) for g in found.latest] == [
        ("kind=b", ("ops",), "firing", 2, "5 min ago"),
        ("kind=c", ("ops",), "firing", 3, "10 min ago"),
    ]
    conn.execute("UPDATE alert_groups SET closed = 1")
    assert open_groups(conn, NOW) == type(found)({}, [])


def test_one_problem_posted_to_three_destinations_is_one_open_group(store_conn: Conn) -> None:
    conn = store_conn
    policy = GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
    event = parse_event({"kind": "audit", "id": "x1"}, now=ago(3))
    targets = [
        Target(name, kind, where, GroupRef(f"g-{name}", "kind=audit", policy))
        for name, kind, where in (
            ("ops", "slack", "C1"),
            ("ops-teams", "teams_workflow", "w"),
            ("console", "console", "-"),
        )
    ]
    insert_notifications(conn, [(event, targets)], now=ago(3).timestamp())
    (acked,) = conn.execute("SELECT id FROM alert_groups WHERE destination = 'ops'").fetchone()
    acknowledge_group(conn, int(acked), ago(1).timestamp())
    found = open_groups(conn, NOW)
    assert found.by_state == {"acknowledged": 1} and found.total == 1  # someone is on it: acknowledged
    [group] = found.latest
    assert (group.key, group.destinations, group.state) == (
        "kind=audit",
        ("console", "ops", "ops-teams"),
        "acknowledged",
    )
