"""The "Replicas" part of `status`: which processes share the database, since when, and which pollers each runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifbot.commands.common import when_ts
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


def replicas_section(view: ReplicaView) -> Section:
    """One item per replica: id, host and pid, version, since when, its last beat and the pollers it runs."""
    items = []
    for r in view.replicas:
        held = sorted(job for job, holder in view.holders.items() if holder == r.id)
        detail = [
            f"{r.host} pid {r.pid}",
            f"version {r.version}",
            f"since {when_ts(r.started_at)}",
            f"last beat {max(0.0, view.now - r.beat_at):.0f} s ago",
            "runs " + ", ".join(held) if held else "runs no poller",
        ]
        items.append(Item(r.id, detail=" · ".join(detail)))
    if not items:
        return Section(title="Replicas", text="No replica has reported in yet.")
    return Section(title=f"Replicas ({len(items)})", items=tuple(items))
