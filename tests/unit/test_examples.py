"""Every config in examples/ passes check-config's checks when its documented variables are set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifbot.config import load_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_config_is_valid(path: Path) -> None:
    text = path.read_text()
    # the "Validate with:" comment names the variables the example needs
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", text)) | set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)\}", text))
    environ = {name: f"test-{name.lower()}" for name in names}
    environ.update((n, f"https://example.test/{n.lower()}?sig=abcdef") for n in names if n.endswith("_URL"))
    if "SLACK_BOT_TOKEN" in names:
        environ["SLACK_BOT_TOKEN"] = "xoxb-test"
    settings = load_settings(str(path), environ)
    assert environment_problems(settings, Env(environ)) == []


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"notifbot.yaml", "marketo.yaml", "adobe-io.yaml"}
