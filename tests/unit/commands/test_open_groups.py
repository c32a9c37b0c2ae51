"""`status`'s open alert groups: one problem counted once however many destinations post it, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.commands.open_groups import OpenGroups, open_groups
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.kinds.samples import load_samples
from notifbot.routing import PROBLEM, group_id, group_key
from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from tests.unit.commands.conftest import Harness

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
POLICY = GroupPolicy((PROBLEM,), timedelta(0), timedelta(minutes=10), timedelta(minutes=10), thread=False)
# the sandbox's embedded default: #sandbox, its Teams twin and the console, all on one route
DESTINATIONS = (
    ("sandbox", "slack", "C0SANDBOX1"),
    ("sandbox-teams", "teams_workflow", "T/1"),
    ("console", "console", "-"),
)


def _post(
    conn: Conn, event: dict[str, object], destinations: tuple[tuple[str, str, str], ...] = DESTINATIONS
) -> None:
    n = parse_event(event, now=NOW)
    key = group_key(n, POLICY.by)
    targets = [
        Target(name, kind, where, GroupRef(group_id(name, key), key, POLICY))
        for name, kind, where in destinations
    ]
    insert_notifications(conn, [(n, targets)], now=NOW.timestamp())


def test_one_sample_at_three_destinations_is_one_open_group(store_conn: Conn) -> None:
    assert open_groups(store_conn) == OpenGroups({}, 0)
    _post(store_conn, load_samples()["campaign_failure"])
    assert open_groups(store_conn) == OpenGroups({"firing": 1}, 3)
    # another problem at one destination, acknowledged there: someone is on it
    _post(store_conn, {"kind": "crm_sync", "id": "c1"}, DESTINATIONS[:1])
    store_conn.execute("UPDATE alert_groups SET acked = 1 WHERE group_key LIKE 'kind=crm_sync%'")
    assert open_groups(store_conn) == OpenGroups({"acknowledged": 1, "firing": 1}, 3)
    # acknowledged in Slack while its Teams twin still fires: acknowledged, once
    store_conn.execute("UPDATE alert_groups SET acked = 1 WHERE destination = 'sandbox'")
    assert open_groups(store_conn) == OpenGroups({"acknowledged": 2}, 3)
    store_conn.execute("UPDATE alert_groups SET state = 'resolved', acked = 0")
    assert open_groups(store_conn) == OpenGroups({"resolved": 2}, 3)
    store_conn.execute("UPDATE alert_groups SET closed = 1")
    assert open_groups(store_conn) == OpenGroups({}, 0)


async def test_status_says_one_group_in_three_destinations(bot: Harness) -> None:
    await bot.db.call(_post, load_samples()["campaign_failure"])
    facts = {f.label: f.value for f in (await bot.ask("status")).sections[0].facts}
    assert facts["Alert groups open"] == "1 firing (in 3 destinations)"
    await bot.db.call(_post, {"kind": "crm_sync", "id": "c1"}, DESTINATIONS[:1])
    facts = {f.label: f.value for f in (await bot.ask("status")).sections[0].facts}
    assert facts["Alert groups open"] == "2 firing (in 3 destinations)"
