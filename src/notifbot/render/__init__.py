"""Renderers: turn a Notification into a Slack Block Kit message (and terminal views of it)."""

from __future__ import annotations

from notifbot.render.advice import what_to_do
from notifbot.render.console import render_console, render_console_json
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack import render_slack
from notifbot.text import escape_mrkdwn, truncate

__all__ = [
    "escape_mrkdwn",
    "render_console",
    "render_console_json",
    "render_slack",
    "slack_limit_problems",
    "truncate",
    "what_to_do",
]
