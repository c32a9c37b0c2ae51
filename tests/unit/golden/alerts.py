"""The alert golden cases: every bundled sample through every alert renderer and variant, at a fixed time.

Each case is a golden file's relative path and a function producing the output it holds.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from notifbot.delivery.digest_flush import view_of as digest_view
from notifbot.destinations.console import ConsoleDelivery
from notifbot.digests import Period
from notifbot.groups import GroupView, ThreadItems
from notifbot.kinds import item_label, load_samples
from notifbot.model import Acked, Notification
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.teams import render_teams, render_teams_thread
from notifbot.sources.events import parse_event
from notifbot.store.digests import DigestContent
from notifbot.store.outbox import OutboxRow
from tests.unit.golden.reminders import reminded
from tests.unit.golden.snapshot import console_lines
from tests.unit.render.helpers import T

SAMPLES = load_samples()
ACKED = Acked("U0BOB", T + timedelta(minutes=7))
ROW = OutboxRow(1, 1, "log", "console", "stdout", 0, None, T.timestamp(), group_id=1)
DIGEST_ROW = OutboxRow(2, 1, "log", "console", "stdout", 0, None, T.timestamp(), digest_id=1)

Case = Callable[[], Any]


def sample(name: str) -> Notification:
    """The bundled sample `name` as the webhook parses it at the fixed time T."""
    return parse_event(SAMPLES[name], now=T)


def group(n: Notification, count: int = 12, **extra: Any) -> GroupView:
    """A group of `count` events like `n` over 25 minutes, listing the first few (as group_flush builds it)."""
    items = tuple(f"{item_label(n)} #{i}" for i in range(1, min(count, 3) + 1))
    return GroupView(
        n, count, T, T + timedelta(minutes=25), items, n.severity, key=f"kind={n.kind_label}", **extra
    )


def digest(n: Notification) -> GroupView:
    """A day's digest whose first event is `n`, through digest_flush's view (summary instead of a time span)."""
    content = DigestContent(
        digest_id=1,
        label=f"kind={n.kind_label}",
        timezone="Europe/Stockholm",
        period=Period(T - timedelta(days=1), T),
        count=42,
        first=n,
        severity=n.severity,
        last_seen=T.timestamp() - 5,
        head=[n] * 3,
        breakdown=[(n.kind_label, "123-ABC-456", 40), ("audit", None, 2)],
    )
    return digest_view(content)


def console(act: Callable[[ConsoleDelivery], Any]) -> dict[str, list[str]]:
    """What the console destination prints for one call (a coroutine on it), as lines."""
    out = io.StringIO()
    asyncio.run(act(ConsoleDelivery({"log": "text"}, out)))
    return console_lines(out.getvalue())


def _sample_cases(name: str) -> dict[str, Case]:
    def n() -> Notification:
        return sample(name)

    return {
        f"slack/{name}.plain.json": lambda: render_slack(n()),
        f"slack/{name}.interactive.json": lambda: render_slack(n(), interactive=True),
        f"slack/{name}.acked.json": lambda: render_slack(n(), interactive=True, acked=ACKED),
        f"slack/{name}.group.json": lambda: render_slack(n(), interactive=True, group=group(n())),
        f"slack/{name}.group_single.json": lambda: render_slack(n(), interactive=True, group=group(n(), 1)),
        f"slack/{name}.group_acked.json": lambda: render_slack(
            n(), interactive=True, group=group(n(), acked=ACKED), acked=ACKED
        ),
        f"slack/{name}.group_resolved.json": lambda: render_slack(
            n(), interactive=True, group=group(n(), state="resolved")
        ),
        f"slack/{name}.digest.json": lambda: render_slack(n(), group=digest(n())),
        f"teams/{name}.plain.json": lambda: render_teams(n()),
        f"teams/{name}.acked.json": lambda: render_teams(n(), acked=ACKED),
        f"teams/{name}.group.json": lambda: render_teams(n(), group=group(n())),
        f"teams/{name}.group_acked.json": lambda: render_teams(
            n(), group=group(n(), acked=ACKED), acked=ACKED
        ),
        f"teams/{name}.group_resolved.json": lambda: render_teams(n(), group=group(n(), state="resolved")),
        f"teams/{name}.digest.json": lambda: render_teams(n(), group=digest(n())),
        f"console/{name}.plain.json": lambda: console(lambda c: c.send(ROW, n())),
        f"console/{name}.group.json": lambda: console(lambda c: c.post_group(ROW, group(n()))),
        f"console/{name}.group_update.json": lambda: console(
            lambda c: c.edit_group(ROW, "m1", group(n(), 30))
        ),
        f"console/{name}.digest.json": lambda: console(lambda c: c.post_group(DIGEST_ROW, digest(n()))),
    }


def _labels() -> tuple[str, ...]:
    """Every sample's group item label (the thread lists these)."""
    return tuple(item_label(sample(name)) for name in SAMPLES)


THREADS: dict[str, Callable[[], ThreadItems]] = {
    "items": lambda: ThreadItems(_labels(), 11, 40),
    "resolved": lambda: ThreadItems((), 40, 40, resolved=True),
    "reminder": lambda: reminded(3, "<!here>")[1],
    "reminder_single": lambda: reminded(1, None)[1],
}


def _thread_cases(name: str, reply: Callable[[], ThreadItems]) -> dict[str, Case]:
    return {
        f"slack_thread/{name}.json": lambda: render_slack_thread(reply()),
        f"teams_thread/{name}.json": lambda: render_teams_thread(reply()),
        f"console/thread.{name}.json": lambda: console(lambda c: c.reply_group(ROW, "m1", reply())),
    }


CASES: dict[str, Case] = {
    # the whole delivery flow of a reminded group (post, then reminder) as the console prints it
    "console/flow.reminded.json": lambda: console_lines(reminded(3, "<!here>")[0]),
    "console/flow.reminded_single.json": lambda: console_lines(reminded(1, None)[0]),
}
for _name in SAMPLES:
    CASES.update(_sample_cases(_name))
for _name, _reply in THREADS.items():
    CASES.update(_thread_cases(_name, _reply))
