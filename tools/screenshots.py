"""Takes the README's pictures of `notifbot sandbox` and of the bot's console (`make screenshots`), as PNG files in
docs/img/.

Starts the sandbox with its fake Marketo in a subprocess (a free loopback port, a database in a temporary
directory), drives its page with Playwright in the system's Chromium (NOTIFBOT_CHROMIUM, else `chromium` on
PATH), and writes one picture per function in SHOTS. The console's pictures are taken in the tab the sandbox's
"Open console" opens, signed in as an admin. A picture is a function of a `Session` (the page, the sandbox's
addresses, the console's tab, `save`): adding one is one function and one entry there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    from playwright.sync_api import FloatRect, Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - said at start, with the way to get it
    sys.exit("screenshots: needs Playwright (the test extra: `make screenshots` installs it)")

from screenshot_env import (  # tools/, the script's own folder, is first on sys.path
    EMOJI_PACKAGE,
    ROOT,
    Sandbox,
    ToolError,
    chromium_executable,
    ensure_emoji_font,
    png_size,
    sandbox,
    say,
)

OUT = ROOT / "docs" / "img"
WIDTH, HEIGHT = 1200, 900  # the viewport; pictures are cropped from it, at one device pixel per CSS pixel
MARGIN = 24  # below the last channel, as on its left
WAIT_MS = 20_000  # for any one thing on the page (a message, an edit, a reply)
SAMPLE = "campaign_failure"
# sent besides SAMPLE before the console's pictures, so that its list shows several kinds and statuses
CONSOLE_SAMPLES = ("crm_sync", "web_services", "engagement", "ab_test_result")
MUTED_SAMPLE = "engagement"  # muted from Slack first: its row says "muted"
QUOTA_ROWS = 6  # rows of the quota's data table in its picture


# --- the pictures ----------------------------------------------------------------------------------------------


@dataclass
class Session:
    """What a picture function works with: one browser page, the running sandbox, where pictures go."""

    page: Page
    sandbox: Sandbox
    out: Path
    saved: list[Path] = field(default_factory=list)
    console: Page | None = None  # the bot's console in its own tab, once a picture has opened it

    def save(self, name: str, png: bytes) -> Path:
        """Writes `png` as `name` in the output folder and says its size."""
        path = self.out / name
        path.write_bytes(png)
        self.saved.append(path)
        width, height = png_size(png)
        say(f"wrote {_shown(path)}: {width}×{height}, {len(png) / 1024:.0f} KB")
        return path


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def sample_messages(s: Session) -> tuple[Locator, Locator]:
    """The sample's Slack message and Teams card, sent with the page's "Send a sample event" if not there yet."""
    page = s.page
    slack = page.locator(".sb-list[data-source=slack] > .sb-msg", has_text=f"Kind {SAMPLE}")
    teams = page.locator(".sb-list[data-source=teams] > .sb-msg", has_text=f"Kind {SAMPLE}")
    if not page.url.startswith(s.sandbox.url):
        page.goto(s.sandbox.url)
    if slack.count() == 0:
        send_sample(s, SAMPLE)
    expect(slack).to_have_count(1)
    expect(teams).to_have_count(1)
    return slack, teams


def only(page: Page, *messages: Locator) -> None:
    """Hides the channel's other messages (and those still to come), so that a picture does not depend on the
    time of day: the fake Marketo's quota warning is posted at start once its story has passed 14:30 CT."""
    keep = "".join(f':not([id="{m.get_attribute("id")}"])' for m in messages)
    # one constructed style sheet, replaced by the next call: the page's CSP (style-src 'self') refuses a <style>
    page.evaluate(
        """css => { const sheet = new CSSStyleSheet(); sheet.replaceSync(css);
                    document.adoptedStyleSheets = [sheet]; }""",
        f".sb-list > .sb-msg{keep} {{ display: none; }}",
    )


def settle(page: Page) -> None:
    """No focus ring, fonts loaded."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("document.fonts.ready.then(() => true)")


def sample_page(s: Session) -> None:
    """The page after sending the campaign_failure sample: the message as Slack shows it, beside its Teams card."""
    slack, teams = sample_messages(s)
    only(s.page, slack, teams)
    settle(s.page)
    bottom = s.page.evaluate(
        "[...document.querySelectorAll('.sb-channel')].pop().getBoundingClientRect().bottom + window.scrollY"
    )
    clip: FloatRect = {"x": 0, "y": 0, "width": WIDTH, "height": float(bottom) + MARGIN}
    s.save(
        "sandbox-sample.png",
        s.page.screenshot(clip=clip, full_page=True, animations="disabled", caret="hide"),
    )


def quota_reply(s: Session) -> None:
    """The Slack pane after Acknowledge on the sample and `/marketo quota`: the edit and the ephemeral reply."""
    slack, _ = sample_messages(s)
    slack.get_by_role("button", name="Acknowledge").click()
    expect(slack).to_contain_text("Acknowledged by")
    pane = s.page.locator(".sb-pane").filter(has=s.page.locator(".sb-list[data-source=slack]")).first
    box = pane.locator("form.sb-command input[name=text]")
    box.fill("quota")
    box.press("Enter")
    reply = pane.locator(".sb-msg.sb-ephemeral", has_text="Burn today")
    expect(reply).to_have_count(1)
    only(s.page, slack, reply)
    settle(s.page)
    s.save("sandbox-quota.png", pane.screenshot(animations="disabled", caret="hide"))


def slack_command(s: Session, text: str, answer: str) -> None:
    """Types `/marketo <text>` in the Slack pane's box and waits for the ephemeral reply containing `answer`."""
    pane = s.page.locator(".sb-pane").filter(has=s.page.locator(".sb-list[data-source=slack]")).first
    replies = pane.locator(".sb-msg.sb-ephemeral", has_text=answer)
    before = replies.count()
    box = pane.locator("form.sb-command input[name=text]")
    box.fill(text)
    box.press("Enter")
    expect(replies).to_have_count(before + 1)


def send_sample(s: Session, name: str, muted: bool = False) -> None:
    """Sends the sample `name` from the page and waits for the sandbox's answer (the bot has stored it, so samples
    sent one after the other are listed in that order), then, unless it is `muted`, for its message and card."""
    page = s.page
    posted = [
        page.locator(f".sb-list[data-source={source}] > .sb-msg", has_text=f"Kind {name}")
        for source in ("slack", "teams")
    ]
    counts = [messages.count() for messages in posted]
    page.get_by_label("Send a sample event").select_option(name)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/sample")):
        page.locator("form[action='/sample']").get_by_role("button", name="Send").click()
    for messages, count in zip(posted, counts, strict=True):
        if not muted:  # one more at least: the fake Marketo's quota warning is a web_services message too
            expect(messages.nth(count)).to_be_attached()


def delivered(console: Page, url: str) -> None:
    """Opens `url` in the console, again until it shows no pending delivery: a message appears in the sandbox a
    moment before the bot records it as delivered."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        console.goto(url)
        if console.locator("main .status-pending").count() == 0:
            return
        if time.monotonic() > deadline:
            raise ToolError(f"{url} still shows pending deliveries after {WAIT_MS / 1000:.0f} s")


def console_page(s: Session) -> Page:
    """The bot's console in the tab "Open console" opens, after acknowledging SAMPLE, muting MUTED_SAMPLE's kind
    and sending CONSOLE_SAMPLES, so that the list shows several statuses; opened once, then reused."""
    if s.console is not None:
        return s.console
    slack, _ = sample_messages(s)
    if "Acknowledged by" not in slack.inner_text():
        slack.get_by_role("button", name="Acknowledge").click()
        expect(slack).to_contain_text("Acknowledged by")
    slack_command(s, f'mute {MUTED_SAMPLE} 1h --reason "stream refill scheduled"', "Muted")
    for name in CONSOLE_SAMPLES:
        send_sample(s, name, muted=name == MUTED_SAMPLE)
    with s.page.context.expect_page() as opened:
        s.page.get_by_role("button", name="Open console").click()
    s.console = opened.value
    expect(s.console.get_by_text("Signed in as admin")).to_be_visible()
    return s.console


def down_to(s: Session, console: Page, last: Locator, name: str) -> None:
    """Saves the console's page from its top (the navigation bar) down to the bottom edge of `last`."""
    settle(console)
    box = last.bounding_box()
    assert box is not None, f"{last} is not shown"
    bottom = box["y"] + box["height"] + float(console.evaluate("window.scrollY"))
    clip: FloatRect = {"x": 0, "y": 0, "width": WIDTH, "height": bottom}
    s.save(name, console.screenshot(clip=clip, full_page=True, animations="disabled", caret="hide"))


def console_notifications(s: Session) -> None:
    """The console's notification list: the filters and the newest rows, each with its delivery status."""
    console = console_page(s)
    delivered(console, f"{s.sandbox.bot_url}/ui/notifications")
    rows = console.locator("table.notifications > tbody > tr")
    # all stored (send_sample): the picture goes down to the first one sent, with the fake Marketo's quota warning
    # (posted once its story has passed 14:30 CT) wherever it came
    for name in CONSOLE_SAMPLES:
        expect(rows.filter(has_text=name)).not_to_have_count(0)
    expect(rows.filter(has_text="muted")).not_to_have_count(0)
    down_to(s, console, rows.filter(has_text=SAMPLE).first, "console-notifications.png")


def console_quota(s: Session) -> None:
    """The console's quota page: the first instance's chart, its forecast and reset, and the table's top rows."""
    console = console_page(s)
    console.goto(f"{s.sandbox.bot_url}/ui/quota")
    panel = console.locator("section.quota").first
    expect(panel.locator(".chart svg")).to_be_visible()
    rows = panel.locator("table > tbody > tr")
    expect(rows).not_to_have_count(0)
    down_to(s, console, rows.nth(min(QUOTA_ROWS, rows.count()) - 1), "console-quota.png")


# The pictures, in order, all on one page of one sandbox (and the console's tab it opens).
SHOTS: tuple[Callable[[Session], None], ...] = (
    sample_page,
    quota_reply,
    console_notifications,
    console_quota,
)


def take(out: Path, executable: str) -> list[Path]:
    """Runs the sandbox and every picture function; the files written."""
    with tempfile.TemporaryDirectory(prefix="notifbot-screenshots-") as tmp:
        say("starting notifbot sandbox --marketo")
        with sandbox(Path(tmp)) as running, sync_playwright() as playwright:
            say(f"sandbox at {running.url}; bot at {running.bot_url}")
            say(f"starting {executable}")
            home = Path(tmp) / "chromium-home"  # Chromium's profile and caches stay out of ~
            home.mkdir()
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, env={**os.environ, "HOME": str(home)}
            )
            try:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT},
                    device_scale_factor=1,
                    reduced_motion="reduce",
                    locale="en-US",
                )
                context.set_default_timeout(WAIT_MS)
                expect.set_options(timeout=WAIT_MS)
                session = Session(context.new_page(), running, out)
                for shot in SHOTS:
                    say(f"{shot.__name__}: {(shot.__doc__ or '').splitlines()[0]}")
                    shot(session)
                return session.saved
            finally:
                browser.close()


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="tools/screenshots.py",
        description=(
            "Takes the README's pictures of `notifbot sandbox --marketo` and of the bot's console it opens, with "
            "Playwright in the system's Chromium "
            "(NOTIFBOT_CHROMIUM, else `chromium` on PATH) and writes them as PNG files "
            f"({', '.join(f.__name__ for f in SHOTS)}). Installs Debian's {EMOJI_PACKAGE} first when no emoji "
            "font is there and it runs as root. The quota pictures show the fake Marketo's day up to now "
            "(US Central), so they differ with the time they are taken."
        ),
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"folder for the PNG files (default {_shown(OUT)})"
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="never install the emoji font (only warn when it is missing)",
    )
    args = parser.parse_args(argv)
    try:
        executable = chromium_executable()
        ensure_emoji_font(install=not args.no_install)
        args.out.mkdir(parents=True, exist_ok=True)
        written = take(args.out.resolve(), executable)
    except ToolError as exc:
        say(str(exc))
        return 1
    say(f"done: {len(written)} pictures in {_shown(args.out.resolve())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
