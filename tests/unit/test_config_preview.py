"""The chat messages as the bot writes them under a config: the config's language, templates, Marketo hosts and
buttons; `notifbot render` prints exactly these (the console's previews draw the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from notifbot.cli import main
from notifbot.config import load_settings, parse_settings
from notifbot.config.preview import preview
from notifbot.kinds import sample_for_kind
from notifbot.model import Acked
from notifbot.sources.events import parse_event

CONFIG = {
    "locale": "sv",
    "timezone": "Europe/Stockholm",
    "slack": {"interactive": True},
    "links": {"marketo_hosts": ["mkto.example.com"]},
    "templates": {"campaign_failure": {"title": "Kampanj {{ campaign_name }} stannade"}},
}
EVENT = {
    "kind": "campaign_failure",
    "id": "p-1",
    "occurred_at": "2026-12-01T10:00:00Z",
    "fields": {"campaign_name": "Q4", "url": "https://mkto.example.com/#SC1"},
}


def test_the_config_decides_language_templates_links_and_buttons() -> None:
    post = preview(parse_settings(CONFIG, source="t"))
    n = parse_event(EVENT, now=datetime(2026, 12, 1, tzinfo=UTC))
    slack = json.dumps(post.slack(n), ensure_ascii=False)
    assert "Kampanj Q4 stannade" in slack and "Kvittera" in slack  # the template, and Acknowledge in Swedish
    assert "Öppna i Marketo" in slack  # the configured host is Marketo's
    assert "11:00" in slack  # 10:00 UTC in Stockholm
    teams = json.dumps(post.teams(n), ensure_ascii=False)
    assert "Kampanj Q4 stannade" in teams and "Öppna i Marketo" in teams
    acked = post.slack(n, Acked("U1", datetime(2026, 12, 1, 10, 5, tzinfo=UTC)))
    assert "Kvitterat av U1" in json.dumps(acked, ensure_ascii=False)
    english = preview(parse_settings(CONFIG, source="t"), locale="en", timezone="UTC", interactive=False)
    plain = json.dumps(english.slack(n), ensure_ascii=False)
    assert "Kampanj Q4 stannade" in plain and "Acknowledge" not in plain and "Open in Marketo" in plain


@pytest.mark.parametrize("format_", ["slack", "teams"])
def test_render_prints_what_the_preview_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], format_: str
) -> None:
    config = tmp_path / "notifbot.yaml"
    config.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    assert main(["render", "--config", str(config), "--kind", "campaign_failure", "--format", format_]) == 0
    printed = json.loads(capsys.readouterr().out)
    post = preview(load_settings(str(config), {}))
    n = parse_event(sample_for_kind("campaign_failure"), now=datetime.now(UTC))
    assert printed == (post.teams(n) if format_ == "teams" else post.slack(n))
