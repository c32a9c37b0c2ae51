"""Open alert groups for `status`: one problem counted once, however many destinations post it.

A group is stored per destination (`routing.group_id`), so one event routed to a channel, its Teams twin and the
console opens three rows for one problem. Counting rows said "3 firing" for one alert; an admin asks how many
problems are open, so groups are counted by their key, with the destinations holding them beside.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifbot.store.conn import Conn

# a problem's state across its destinations: acknowledged if acknowledged at any of them (someone is on it),
# firing if firing at any other, resolved only when resolved everywhere
_BY_KEY = (
    "SELECT st, count(*) FROM (SELECT group_key, max(CASE WHEN state = 'resolved' THEN 0 WHEN acked <> 0 THEN 2"
    " ELSE 1 END) AS st FROM alert_groups WHERE closed = 0 GROUP BY group_key) k GROUP BY st"
)
_STATES = {0: "resolved", 1: "firing", 2: "acknowledged"}


@dataclass(frozen=True)
class OpenGroups:
    """Open alert groups by state, each problem (group key) once, and how many destinations hold them."""

    states: dict[str, int]
    destinations: int


def open_groups(conn: Conn) -> OpenGroups:
    """The open groups by key; reads only open rows (the partial index alert_groups_open holds just those)."""
    states = {_STATES[int(st)]: int(n) for st, n in conn.execute(_BY_KEY).fetchall()}
    row = conn.execute("SELECT count(DISTINCT destination) FROM alert_groups WHERE closed = 0").fetchone()
    return OpenGroups(states, int(row[0] or 0))
