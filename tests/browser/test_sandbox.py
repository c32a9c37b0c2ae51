"""Tests 1–4 of docs/design/first-hour.md §7.2, and the console button: the sandbox page in Chromium.

The real `notifbot sandbox --marketo` runs in a child process (its `serve` installs signal handlers), started once
for the module while Chromium launches; the embedded default configuration gives it one channel, `#sandbox`, with
its Teams twin. What the page shows is checked against what the bot stored (its database) and posted (the
sandbox's conversations.history), never against the page itself.

The storm here is STORM events (§7.3's fallback: the suite keeps a small one; `bench/sandbox_storm.py` runs 200
through the same code, tests/browser/sandbox_storm.py). It runs last: the page it leaves is large.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from notifbot.sandbox.slack_api import YOU
from tests.browser.sandbox_storm import (
    CHANNEL,
    LONG_TASKS,
    SUITE_LONG_TASK_MS,
    TITLES,
    channel,
    run_storm,
    send_sample,
)
from tests.browser.support import chromium_executable
from tests.integration.process import wait_until
from tests.integration.sandbox_process import SandboxProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow  # a subprocess: scheduled first (tests/conftest.py)

STORM = 50
SPARKLINE = re.compile("[▁▂▃▄▅▆▇█]+")  # an hour a bar: one just after 00:00 CT


@pytest.fixture(scope="module")
def spawned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """The child, spawned before Chromium launches (each takes a moment: they start side by side)."""
    chromium_executable()  # skips (or fails under CI) before starting anything when there is no browser
    box = SandboxProcess(tmp_path_factory.mktemp("sandbox"))
    try:
        yield box
    finally:
        code = box.stop()
    assert code == 0, box.stderr()


@pytest.fixture(scope="module", autouse=True)
def _spawn_first(spawned: SandboxProcess) -> None:
    """Autouse: the child is spawned before the (module-scoped, not autouse) browser fixture launches Chromium."""


@pytest.fixture(scope="module")
def sandbox(spawned: SandboxProcess) -> SandboxProcess:
    """The sandbox once it printed its page URL (both servers answer)."""
    wait_until(spawned.started, timeout=30)
    return spawned


@pytest.fixture
def context_options(sandbox: SandboxProcess) -> dict[str, Any]:
    return {"base_url": sandbox.url}


def posted(sandbox: SandboxProcess, ts: str) -> dict[str, Any]:
    """The Slack message `ts` as the bot last posted or edited it (conversations.history)."""
    return next(m for m in sandbox.history(CHANNEL) if m["ts"] == ts)


def pairs(texts: list[str]) -> list[tuple[str, str]]:
    """(label, value) of fields shown as a label over its value."""
    return [(label.strip(), value.strip()) for label, _, value in (t.strip().partition("\n") for t in texts)]


def test_a_sample_shows_its_header_fields_and_buttons_and_its_teams_twin_the_same(
    page: Page, sandbox: SandboxProcess
) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    slack, teams = send_sample(page, "campaign_failure")
    sent = posted(sandbox, slack.get_attribute("data-ts") or "")
    [fields] = [b["fields"] for b in sent["blocks"] if b["type"] == "section" and "fields" in b]
    expected = pairs([f["text"].replace("*", "") for f in fields])
    title = TITLES["campaign_failure"]
    header = slack.locator(".nb-header")
    expect(header).to_be_visible()
    assert header.inner_text().endswith(title)
    assert pairs(slack.locator(".nb-field").all_inner_texts()) == expected and len(expected) >= 2
    for button in (
        slack.get_by_role("button", name="Acknowledge"),
        slack.get_by_role("button", name=re.compile("^Mute ")),
        slack.get_by_role("link", name="Open in Marketo"),
    ):
        expect(button).to_be_visible()
    # the Teams twin: the same title, the same facts
    expect(teams.locator(".nb-card")).to_be_visible()
    assert teams.locator(".nb-card > :first-child").inner_text().endswith(title)
    facts = teams.locator("dl.nb-factset .nb-fact").all()
    assert [
        (f.locator("dt").inner_text().strip(), f.locator("dd").inner_text().strip()) for f in facts
    ] == expected


def test_acknowledge_edits_that_message_in_place_through_the_bot(page: Page, sandbox: SandboxProcess) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    slack, _ = send_sample(page, "crm_sync")
    ts = slack.get_attribute("data-ts") or ""
    before = slack.element_handle()
    slack.get_by_role("button", name="Acknowledge").click()
    expect(slack).to_contain_text("Acknowledged by @you")  # the user's name, as Slack shows a mention
    expect(slack.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(slack.locator(".sb-edited")).to_be_visible()
    # the same element, updated where it was: no new message, no reload
    same = page.evaluate(
        "([el, id]) => el.isConnected && document.getElementById(id) === el", [before, f"m-{CHANNEL}-{ts}"]
    )
    assert same is True
    # through the bot: it recorded who acknowledged, and edited its message (chat.update)
    assert sandbox.rows("SELECT acked_by FROM outbox WHERE provider_message_id = ?", ts) == [(YOU,)]
    assert "edited" in posted(sandbox, ts)


def last_quota_sample(sandbox: SandboxProcess) -> tuple[int, int]:
    """(used, quota) of the latest sample the bot stored from the fake Marketo."""
    rows = sandbox.rows("SELECT used, quota FROM quota_samples ORDER BY sampled_at DESC, id DESC LIMIT 1")
    return int(rows[0][0]), int(rows[0][1])


def test_marketo_quota_typed_in_the_box_answers_with_the_sparkline_and_the_last_sample(
    page: Page, sandbox: SandboxProcess
) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    sandbox.wait_for_quota_sample()
    before = last_quota_sample(sandbox)
    box = channel(page).get_by_label("/marketo")
    box.fill("/marketo quota")
    box.press("Enter")
    reply = channel(page).locator("article.sb-ephemeral").filter(has_text="Marketo API quota")
    expect(reply).to_be_visible()
    after = last_quota_sample(sandbox)
    text = reply.inner_text()
    assert "Only visible to you" in text and SPARKLINE.search(text), text
    # the sample the bot answered from is the last one when the command ran (the poller may add one meanwhile)
    shown = [
        (used, quota)
        for used, quota in dict.fromkeys((before, after))
        if f"{used:,} of {quota:,}" in text and re.search(rf"Left\s+{quota - used:,}\b", text)
    ]
    assert shown, (before, after, text)


def test_open_console_lands_on_the_bot_s_console_signed_in(page: Page, sandbox: SandboxProcess) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open console").click()
    console = opened.value
    console.wait_for_load_state()
    assert console.url == f"{sandbox.bot_url}/ui/"
    expect(console.get_by_text("Signed in as admin")).to_be_visible()


def test_a_storm_leaves_the_page_responsive_and_ends_with_every_message(
    page: Page, sandbox: SandboxProcess
) -> None:
    page.context.add_init_script(LONG_TASKS)
    page.goto("/")
    storm = run_storm(page, sandbox, STORM)  # a click's edit or a command's reply slower than 2 s fails here
    assert (storm.messages, storm.repeated) == (
        STORM - STORM // 4,
        STORM // 4,
    )  # one per problem; repeats edit
    assert storm.missing == [], storm
    assert storm.teams_cards == (storm.messages, storm.messages), storm
    assert [t for t in storm.long_tasks_ms if t > SUITE_LONG_TASK_MS] == [], storm
    assert storm.axe == []
