"""render_console: a Slack message as readable terminal text."""

from __future__ import annotations

import json

from notifbot.kinds import load_samples
from notifbot.render.console import render_console, render_console_json
from notifbot.render.slack import render_slack
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, note


def test_console_view_of_a_sample() -> None:
    message = render_slack(parse_event(load_samples()["campaign_failure"], now=T))
    out = render_console(message)
    lines = out.splitlines()
    assert lines[0] == "🟠 Campaign failed: Q4 Webinar Invites"
    assert "Campaign: Q4 Webinar Invites" in lines
    assert "Program: 2026-Q4 Webinar: Marketing Ops Deep Dive" in lines
    assert "→ Open in Marketo: https://app-ab12.marketo.com/#SC4821A1" in lines
    assert "What to do" in lines
    assert lines[-1].startswith("Instance 123-ABC-456 · Nov 28, 2026 10:00 UTC")
    assert "*" not in out


def test_console_unescapes_and_shows_links() -> None:
    campaigns = [{"name": "A & B <x>", "url": "https://app-ab12.marketo.com/?q=1&r=2"}]
    out = render_console(
        render_slack(note("trigger_cleanup", {"campaigns": campaigns}, summary="1 < 2 & 3 > 2"))
    )
    assert "1 < 2 & 3 > 2" in out
    assert "• A & B <x> (https://app-ab12.marketo.com/?q=1&r=2)" in out
    assert "&amp;" not in out and "&lt;" not in out


def test_console_text_only_and_json() -> None:
    assert render_console({"text": "a &amp; b"}) == "a & b"
    message = render_slack(note("audit"))
    assert json.loads(render_console_json(message)) == message
    assert "\n  " in render_console_json(message)
