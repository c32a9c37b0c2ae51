"""The "Replicas" part of `status`: which processes share the database, since when, and which pollers each runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifbot.commands.common import when_ts
from notifbot.i18n import EN, Texts
from notifbot.replies import Item, Section
from notifbot.store.conn import Conn
from notifbot.store.dialect import SQLITE, dialect_of
from notifbot.store.leases import db_time, poller_holders
from notifbot.store.replicas import ReplicaRow, alive


@dataclass(frozen=True)
class ReplicaView:
    """The replicas alive and the poller leases, read at `now` (the database's clock)."""

    shown: bool  # on PostgreSQL, or when more than one replica shares the SQLite file
    now: float
    replicas: list[ReplicaRow] = field(default_factory=list)
    holders: dict[str, str] = field(default_factory=dict)  # poller (job name) → replica id

    def holder_of(self, job: str) -> str | None:
        """The replica running the poller of that job name, if any holds it."""
        return self.holders.get(job)


def replica_view(conn: Conn, lease_seconds: float) -> ReplicaView:
    """What the status card shows about replicas (two reads; none of it on a lone SQLite process's card)."""
    now = db_time(conn)
    running = alive(conn, lease_seconds, now)
    if dialect_of(conn) is SQLITE and len(running) <= 1:
        return ReplicaView(False, now)
    return ReplicaView(True, now, running, poller_holders(conn, now))


def replicas_section(view: ReplicaView, t: Texts = EN) -> Section:
    """One item per replica: id, host and pid, version, since when, its last beat and the pollers it runs."""
    items = []
    for r in view.replicas:
        held = sorted(job for job, holder in view.holders.items() if holder == r.id)
        detail = [
            t._("{host} pid {pid}").format(host=r.host, pid=r.pid),
            t._("version {version}").format(version=r.version),
            t._("since {when}").format(when=when_ts(r.started_at, t)),
            t._("last beat {seconds} s ago").format(seconds=f"{max(0.0, view.now - r.beat_at):.0f}"),
            t._("runs {pollers}").format(pollers=", ".join(held)) if held else t._("runs no poller"),
        ]
        items.append(Item(r.id, detail=" · ".join(detail)))
    if not items:
        return Section(title=t.pgettext("heading", "Replicas"), text=t._("No replica has reported in yet."))
    return Section(title=t._("Replicas ({n})").format(n=len(items)), items=tuple(items))
