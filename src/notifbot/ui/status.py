"""What the console's status pages read: mutes in force, what each poller last recorded, open alert groups.

Plain functions of a store connection and the time (`Database.read` runs them), returning what the templates show;
only what the store records is shown: the pollers write `poller_state` (store/marketo_state.py), the mail readers
also their cursors (`email_cursors`, `graph_mail_cursors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from notifbot.central_time import central_date
from notifbot.commands.common import group_state
from notifbot.commands.open_groups import open_groups as commands_open_groups
from notifbot.i18n import EN
from notifbot.iso_time import parse_time
from notifbot.model import Mute
from notifbot.sources.adobe_io.journal import INSTANCE as JOURNAL_INSTANCE
from notifbot.sources.marketo.activities import ScanCursor
from notifbot.sources.marketo.campaigns import POLLER as CAMPAIGNS_POLLER
from notifbot.sources.marketo.quota import POLLER as QUOTA_POLLER
from notifbot.store.conn import Conn
from notifbot.store.idle import ACTIVITY_POLLER

Group = Literal["marketo", "mailbox", "journal"]
GROUPS: tuple[Group, ...] = ("marketo", "mailbox", "journal")  # the order the pages show them in
Status = Literal["ok", "failing", "unknown"]

MARKETO_POLLERS = {  # in the order the page lists them
    QUOTA_POLLER: "quota watch",
    CAMPAIGNS_POLLER: "campaign refresh",
    ACTIVITY_POLLER: "activity scan",
}
MAIL_READERS = {"imap": "IMAP", "graph": "Microsoft Graph", "email": "mail reader"}
MAILBOX_PREFIX = (
    "mailbox "  # the mail readers record under the instance "mailbox <name>" (sources/email/poll.py)
)
STATUS_TEXT: dict[Status, str] = {
    "ok": "last poll succeeded",
    "failing": "failing",
    "unknown": "no poll recorded",
}
OPEN_GROUPS_SHOWN = 10
_QUOTED = frozenset("\"'“”‘’")  # the quotes the command parser reads (commands/args.py `tokens`)


@dataclass(frozen=True)
class Moment:
    """A point in time as the pages show it: UTC (the `utc` filter), relative to now, and ISO for `<time>`."""

    at: float
    relative: str
    iso: str


def moment(at: float | datetime | None, now: datetime) -> Moment | None:
    """`at` (epoch seconds or aware) next to `now`: "5 min ago", "in 2 h 10 min", "just now"; None for none."""
    if at is None:
        return None
    when = at if isinstance(at, datetime) else datetime.fromtimestamp(at, UTC)
    if when > now + timedelta(minutes=1):
        relative = f"in {EN.span(when - now)}"
    else:
        relative = EN.ago(min(when, now), now)
    return Moment(when.timestamp(), relative, when.astimezone(UTC).isoformat().replace("+00:00", "Z"))


# --- mutes ----------------------------------------------------------------------------------------------------------


def matcher_text(key: str, value: str) -> str:
    """`key=value` as the mute command reads it back: in quotes when the value is empty, has spaces or quotes."""
    if value and not any(c.isspace() or c in _QUOTED for c in value):
        return f"{key}={value}"
    quote = "'" if '"' in value and "'" not in value else '"'
    return f"{key}={quote}{value}{quote}"


@dataclass(frozen=True)
class MuteLine:
    """One mute in force: what it silences, until when, who set it and why."""

    kind: str  # "all": every kind (then the matchers say what)
    matchers: tuple[str, ...]
    until: Moment
    author: str
    reason: str | None
    created: Moment | None


def mute_lines(mutes: list[Mute], now: datetime) -> list[MuteLine]:
    """The mutes as the page lists them (the store's order: soonest expiry first)."""
    out = []
    for m in mutes:
        until = moment(m.until, now)
        assert until is not None
        matchers = tuple(matcher_text(k, v) for k, v in m.matchers)
        out.append(MuteLine(m.kind, matchers, until, m.author, m.reason, moment(m.created_at, now)))
    return out


# --- pollers --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a reader resumes (a mail folder's saved position, or how far the activity scan has applied)."""

    label: str
    at: Moment


@dataclass(frozen=True)
class PollerLine:
    """What one poller last recorded: success, error, its API calls today (Marketo only), its cursors' ages."""

    group: Group
    source: str  # the Marketo instance, the mailbox's name, or the journal
    name: str  # what polls: "quota watch", "IMAP", "journal"
    last_success: Moment | None
    last_error: str | None
    last_error_at: Moment | None
    calls_today: int | None  # on today's Central day; None: this poller does not count calls (mail, journal)
    cursors: tuple[Cursor, ...] = ()

    @property
    def status(self) -> Status:
        """Failing when the latest record is an error; ok after a success; unknown before either."""
        if self.last_error is not None and (
            self.last_success is None
            or (self.last_error_at is not None and self.last_error_at.at >= self.last_success.at)
        ):
            return "failing"
        return "ok" if self.last_success is not None else "unknown"

    @property
    def status_text(self) -> str:
        """The status in words (the colour is only a second signal)."""
        return STATUS_TEXT[self.status]

    @property
    def calls_text(self) -> str:
        """API calls today with thousands separators ("—" when this poller does not count them)."""
        return "—" if self.calls_today is None else EN.count(self.calls_today)

    @property
    def hint(self) -> Hint | None:
        """What to check when the poller is failing."""
        return hint(self.group, self.last_error or "") if self.status == "failing" else None


@dataclass(frozen=True)
class Hint:
    """What to check for a failing poller; `check_config`: whether `notifbot check-config` can help."""

    text: str
    check_config: bool = True


def hint(group: Group, error: str) -> Hint:
    """What an operator should check for a failing poller of `group`, given its error message."""
    if group == "marketo":
        if "607" in error:
            return Hint(
                "Marketo's daily API quota is used up: calls work again after the reset at 00:00 CT (see Quota).",
                check_config=False,
            )
        if any(code in error for code in ("601", "602", "603", "401", "403")):
            return Hint(
                "Marketo refused the credentials: check this instance's client id and secret (marketo.instances, "
                "usually from the environment) and the API user's permissions in Marketo."
            )
        return Hint(
            "Check that Marketo is reachable from this host, and this instance's base_url and credentials in "
            "marketo.instances. The poller retries by itself."
        )
    if group == "mailbox":
        return Hint(
            "Check the mailbox's server, user name and password or token in email.mailboxes (for Microsoft Graph, "
            "the app registration's access to the mailbox). The reader retries with a growing pause."
        )
    return Hint(
        "Check adobe_io.journal_url and that the Adobe I/O credential (client id and secret) may read this "
        "registration. The journal reader retries by itself."
    )


def _describe(instance: str, poller: str) -> tuple[Group, str, str, int]:
    """(group, source, name, order within the group) of a poller_state row."""
    if instance.startswith(MAILBOX_PREFIX):
        return "mailbox", instance.removeprefix(MAILBOX_PREFIX), MAIL_READERS.get(poller, poller), 0
    if instance == JOURNAL_INSTANCE and poller.startswith("journal:"):
        return "journal", "Adobe I/O journal", f"journal {poller.removeprefix('journal:')}", 0
    order = list(MARKETO_POLLERS).index(poller) if poller in MARKETO_POLLERS else len(MARKETO_POLLERS)
    return "marketo", instance, MARKETO_POLLERS.get(poller, poller), order


def _covered_through(cursor: object, now: datetime) -> Cursor | None:
    """How far the activity scan has applied Marketo's activities (its cursor's `through`), when it says."""
    through = parse_time(ScanCursor.load(cursor if isinstance(cursor, str) else None).through)
    at = moment(through, now) if through is not None else None
    return Cursor("activities applied through", at) if at is not None else None


def _mail_cursors(conn: Conn, now: datetime) -> dict[tuple[str, str], list[Cursor]]:
    """{(mailbox, reader): cursors}: each folder's saved position with when it was saved."""
    out: dict[tuple[str, str], list[Cursor]] = {}
    for reader, table in (("imap", "email_cursors"), ("graph", "graph_mail_cursors")):
        rows = conn.execute(f"SELECT mailbox, folder, updated_at FROM {table} ORDER BY mailbox, folder")
        for mailbox, folder, updated_at in rows.fetchall():
            at = moment(float(updated_at), now)
            assert at is not None
            out.setdefault((str(mailbox), reader), []).append(Cursor(f"{folder} position saved", at))
    return out


def poller_lines(conn: Conn, now: datetime) -> list[PollerLine]:
    """Every poller the store has a record of: Marketo per instance, then mailboxes, then the Adobe I/O journal."""
    today = central_date(now).isoformat()
    rows = conn.execute(
        "SELECT instance, poller, last_success_at, last_error, last_error_at, day, calls_today,"
        " CASE WHEN poller = ? THEN cursor END AS scan FROM poller_state",
        (ACTIVITY_POLLER,),
    ).fetchall()
    mail = _mail_cursors(conn, now)
    keyed: list[tuple[tuple[int, str, int, str], PollerLine]] = []
    for instance, poller, success_at, error, error_at, day, calls, scan in rows:
        group, source, name, order = _describe(str(instance), str(poller))
        cursors: list[Cursor] = []
        if group == "marketo" and poller == ACTIVITY_POLLER and (covered := _covered_through(scan, now)):
            cursors.append(covered)
        if group == "mailbox":
            cursors += mail.pop((source, str(poller)), [])
        line = PollerLine(
            group,
            source,
            name,
            moment(success_at, now),
            None if error is None else str(error),
            moment(error_at, now),
            (int(calls or 0) if day == today else 0) if group == "marketo" else None,
            tuple(cursors),
        )
        keyed.append(((GROUPS.index(group), source, order, name), line))
    for (mailbox, reader), cursors in mail.items():  # positions saved, but no poll recorded (yet)
        line = PollerLine("mailbox", mailbox, MAIL_READERS[reader], None, None, None, None, tuple(cursors))
        keyed.append(((GROUPS.index("mailbox"), mailbox, 0, line.name), line))
    return [line for _, line in sorted(keyed, key=lambda kv: kv[0])]


def failing_first(lines: list[PollerLine]) -> list[PollerLine]:
    """The same lines, failing ones first (the overview's compact list)."""
    return sorted(lines, key=lambda line: line.status != "failing")


# --- alert groups ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenGroup:
    """An open problem: its group key, the destinations posting it, its state, how many events joined (at the
    busiest destination), when it last saw one."""

    key: str
    destinations: tuple[str, ...]
    state: str
    count: int
    last_seen: Moment


@dataclass(frozen=True)
class OpenGroups:
    """Open alert groups per state ("firing", "acknowledged", …), each problem once however many destinations post
    it (as `/marketo status` counts them), and the most recently active of them."""

    by_state: dict[str, int]
    latest: list[OpenGroup]

    @property
    def total(self) -> int:
        """How many problems have an open group."""
        return sum(self.by_state.values())


_RANK = {
    "resolved": 0,
    "firing": 1,
    "acknowledged": 2,
}  # across destinations, as commands.open_groups ranks them


def open_groups(conn: Conn, now: datetime, limit: int = OPEN_GROUPS_SHOWN) -> OpenGroups:
    """Open groups by state and the `limit` most recently active problems (reads open groups only)."""
    counted = commands_open_groups(conn).states
    by_state = {group_state(state): n for state, n in counted.items()}
    keys = [
        str(k)
        for (k,) in conn.execute(
            "SELECT group_key FROM alert_groups WHERE closed = 0 GROUP BY group_key"
            " ORDER BY max(last_seen) DESC, group_key LIMIT ?",
            (limit,),
        ).fetchall()
    ]
    rows: dict[str, list[tuple[str, str, int, float]]] = {k: [] for k in keys}
    if keys:
        marks = ", ".join("?" for _ in keys)
        for key, destination, state, acked, count, last_seen in conn.execute(
            "SELECT group_key, destination, state, acked, count, last_seen FROM alert_groups"
            f" WHERE closed = 0 AND group_key IN ({marks})",
            keys,
        ).fetchall():
            rows[str(key)].append((str(destination), _raw_state(state, acked), int(count), float(last_seen)))
    latest = []
    for key in keys:
        held = rows[key]
        seen = moment(max(r[3] for r in held), now)
        assert seen is not None
        state = max((r[1] for r in held), key=_RANK.__getitem__)
        latest.append(
            OpenGroup(
                key, tuple(sorted(r[0] for r in held)), group_state(state), max(r[2] for r in held), seen
            )
        )
    return OpenGroups(dict(sorted(by_state.items())), latest)


def _raw_state(state: object, acked: object) -> str:
    """resolved, firing or acknowledged, before translation into words."""
    if state == "resolved":
        return "resolved"
    return "acknowledged" if acked else "firing"
