"""The sandbox page under a storm (docs/design/first-hour.md §7.2, test 4): shared by the browser test (a small
storm) and `bench/sandbox_storm.py` (200 events, §7.3's fallback).

The storm is campaign failures posted to the bot's /hooks/events from a thread, each as soon as the bot accepted
the last, while the page clicks Acknowledge on a message and types a command. The last quarter repeats the first
problems, so the bot edits those messages in place. What the page must end with comes from the bot's database (its
alert groups: one message per problem, and how many events each shows), never from the page.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from notifbot.sandbox.interact import sample_titles
from notifbot.sandbox.run import SANDBOX_CHANNEL, SANDBOX_DESTINATION
from tests.browser.support import axe_violations
from tests.integration.process import wait_until
from tests.integration.sandbox_process import SandboxProcess

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CHANNEL = SANDBOX_CHANNEL
SLACK, TEAMS = SANDBOX_DESTINATION, f"{SANDBOX_DESTINATION}-teams"  # the channel's destination and its twin
TITLES = sample_titles()  # what the "Send a sample event" menu lists
PROMPT_MS = 2_000  # a click's edit and a command's reply show within this, storm or not (§7.2)
LONG_TASK_MS = 200  # no task on the page's main thread longer than this (§7.2), measured by the bench
# In the suite three workers share two cores, and a long task is wall time: a descheduled renderer inflates it. The
# suite keeps a wider bound that still catches a page that blocks (re-rendering every message per event takes
# seconds); bench/sandbox_storm.py holds the 200 ms target on a quiet machine.
SUITE_LONG_TASK_MS = 600
SETTLE_SECONDS = 30.0  # how long the bot may take to deliver a storm
AXE_KEPT = (
    6  # messages per list left on the page for axe: its time grows with the page (~20 s at 400 messages)
)
# installed before the page's own script: every task over 50 ms from the page's first moment, as [start, duration]
LONG_TASKS = """
window.__longTasks = [];
window.__probes = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]);
}).observe({ type: "longtask", buffered: true });
"""
# what the page shows of the storm, read in one task that notes its own time span: a long task within a span is
# this reading (the text of hundreds of messages), not the page's, and is left out of the page's long tasks
READ_STORM = """(key) => {
  const started = performance.now();
  const read = (source) => [...document.querySelectorAll(
      `.sb-list[data-source="${source}"] > article.sb-msg:not(.sb-ephemeral)`)]
    .filter((a) => a.textContent.includes(key)).map((a) => [a.dataset.ts, a.textContent]);
  const shown = { slack: read("slack"), teams: read("teams").length };
  window.__probes.push([started, performance.now()]);
  return shown;
}"""
PAGE_LONG_TASKS = """() => window.__longTasks
  .filter(([start, took]) => !window.__probes.some(([from, to]) => start < to && start + took > from))
  .map(([, took]) => Math.round(took))"""


def channel(page: Page) -> Locator:
    return page.locator(f'section.sb-channel[data-channel="{CHANNEL}"]')


def messages(page: Page, source: str) -> Locator:
    """The channel's messages from `source` (slack or teams), ephemeral answers left out."""
    return channel(page).locator(f'.sb-list[data-source="{source}"] > article.sb-msg:not(.sb-ephemeral)')


def send_sample(page: Page, name: str) -> tuple[Locator, Locator]:
    """Picks sample `name` by its title in the menu and sends it; its Slack message and its Teams card, once both
    show (each names the event's key, `sandbox-<name>-…`, in its context line)."""
    from playwright.sync_api import expect

    page.get_by_label("Send a sample event").select_option(label=TITLES[name])
    page.locator("form[action='/sample']").get_by_role("button", name="Send").click()
    key = f"sandbox-{name}-"
    found = []
    for source in ("slack", "teams"):
        shown = messages(page, source).filter(has_text=key)
        expect(shown).to_have_count(1)
        # from now on by its ts: finding it by text would read every message on the page (a storm's too) each time
        found.append(
            messages(page, source).and_(page.locator(f'[data-ts="{shown.get_attribute("data-ts")}"]'))
        )
    return found[0], found[1]


def storm_events(run: str, count: int) -> list[dict[str, Any]]:
    """`count` campaign failures, each its own problem, but the last quarter repeats the first problems."""
    distinct = count - count // 4
    return [
        {
            "kind": "campaign_failure",
            "id": f"{run}-{i}",
            "instance": "123-ABC-456",
            "fields": {"campaign_name": f"{run} {i % distinct}", "error": "Send Email: asset not approved"},
        }
        for i in range(count)
    ]


def post_all(url: str, events: list[dict[str, Any]]) -> float:
    """Posts each event in turn, the next as soon as the bot accepted the last; when the last was accepted."""
    with httpx.Client(timeout=10) as client:
        for event in events:
            response = client.post(f"{url}/hooks/events", json=event)
            assert response.status_code == 202, response.text
    return time.monotonic()


@dataclass(frozen=True)
class Group:
    """One alert group of the storm as the bot stored it."""

    destination: str
    message_ts: str | None
    count: int  # events in it
    shown: int  # events its message shows
    posted: bool


def storm_groups(sandbox: SandboxProcess, run: str) -> list[Group]:
    rows = sandbox.rows(
        "SELECT g.destination, g.message_id, g.count, g.shown, g.posted_at IS NOT NULL FROM alert_groups g"
        " JOIN events e ON e.id = g.first_event_id WHERE e.key LIKE ? ORDER BY g.id",
        f"{run}-%",
    )
    return [Group(str(d), m, int(c), int(s), bool(p)) for d, m, c, s, p in rows]


def settled(sandbox: SandboxProcess, run: str, count: int) -> bool:
    """Every event of the storm is in a Slack group whose message shows all of it, and every group was posted."""
    groups = storm_groups(sandbox, run)
    slack = [g for g in groups if g.destination == SLACK]
    return (
        sum(g.count for g in slack) == count
        and all(g.message_ts is not None and g.shown == g.count for g in slack)
        and all(g.posted for g in groups)
    )


def events_line(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


@dataclass
class Storm:
    """What one storm did to the page, in seconds from the first post unless said otherwise."""

    events: int
    posted_s: float = 0.0  # the bot accepted the last event
    acked_s: float = 0.0  # the click's edit showed
    replied_s: float = 0.0  # the command's reply showed
    ack_latency_s: float = 0.0  # click → edit shown
    reply_latency_s: float = 0.0  # Enter → reply shown
    settled_s: float = 0.0  # the bot had delivered every group of the storm
    messages: int = 0  # Slack messages of the storm (one per problem), as the bot stored them
    repeated: int = 0  # of which edited by a repeat
    missing: list[str] = field(default_factory=list)  # ts of messages the page lacks or shows stale
    teams_cards: tuple[int, int] = (0, 0)  # Teams cards of the storm on the page, and as the bot posted them
    long_tasks_ms: list[int] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)


def run_storm(page: Page, sandbox: SandboxProcess, count: int, *, prompt_ms: int = PROMPT_MS) -> Storm:
    """A storm of `count` events while the page clicks Acknowledge on a message and asks `/marketo recent 3`;
    `page` has the LONG_TASKS script installed and shows the sandbox. The figures; axe last, on the newest
    messages (it fails the caller's expectations only through `Storm`, except a prompt slower than `prompt_ms`)."""
    from playwright.sync_api import expect

    target, _ = send_sample(page, "facebook")
    run = f"storm{time.time_ns()}"
    storm = Storm(count)
    replies = channel(page).locator("article.sb-ephemeral").filter(has_text="Recent notifications")
    before = replies.count()
    with ThreadPoolExecutor(1) as pool:
        start = time.monotonic()
        posting = pool.submit(post_all, sandbox.bot_url, storm_events(run, count))
        clicked = time.monotonic()
        target.get_by_role("button", name="Acknowledge").click()
        expect(target).to_contain_text("Acknowledged by @you", timeout=prompt_ms)
        storm.acked_s, storm.ack_latency_s = time.monotonic() - start, time.monotonic() - clicked
        box = channel(page).get_by_label("/marketo")
        box.fill("recent 3")
        typed = time.monotonic()
        box.press("Enter")
        expect(replies).to_have_count(before + 1, timeout=prompt_ms)
        storm.replied_s, storm.reply_latency_s = time.monotonic() - start, time.monotonic() - typed
        storm.posted_s = posting.result() - start
    wait_until(lambda: settled(sandbox, run, count), timeout=SETTLE_SECONDS)
    storm.settled_s = time.monotonic() - start
    groups = storm_groups(sandbox, run)
    slack = {g.message_ts: g.count for g in groups if g.destination == SLACK}
    storm.messages, storm.repeated = len(slack), sum(1 for c in slack.values() if c > 1)

    def missing() -> list[str]:
        """Storm messages the page lacks, or shows with another count than the bot's; any it shows twice."""
        shown = page.evaluate(READ_STORM, f"Key {run}-")
        storm.teams_cards = (shown["teams"], len(teams))
        texts = dict(shown["slack"])
        stale = [str(ts) for ts, n in slack.items() if events_line(n) not in texts.get(str(ts), "")]
        return (
            stale + [ts for ts in texts if ts not in slack] + ["twice"] * (len(shown["slack"]) - len(texts))
        )

    teams = [g for g in groups if g.destination == TEAMS]
    try:
        wait_until(lambda: not missing() and storm.teams_cards[0] == len(teams), timeout=5)
    except AssertionError:
        storm.missing = missing()
    storm.long_tasks_ms = page.evaluate(PAGE_LONG_TASKS)
    page.evaluate(
        "(kept) => document.querySelectorAll('.sb-list').forEach((list) =>"
        " [...list.children].slice(0, -kept).forEach((a) => a.remove()))",
        AXE_KEPT,
    )
    storm.axe = axe_violations(page)
    return storm
