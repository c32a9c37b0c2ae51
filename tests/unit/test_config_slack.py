"""The slack section: the Web API timeout is bounded and defaults to slack_sdk's usual 10 s."""

from __future__ import annotations

import pytest

from notifbot.config import parse_settings
from notifbot.errors import ConfigError


def test_timeout_defaults_to_ten_seconds() -> None:
    assert parse_settings({}, source="test").slack.timeout_seconds == 10.0
    assert parse_settings({"slack": {"timeout_seconds": 2.5}}, source="test").slack.timeout_seconds == 2.5


@pytest.mark.parametrize("bad", [0, -1, 121, "soon"])
def test_timeout_out_of_bounds_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"slack\.timeout_seconds"):
        parse_settings({"slack": {"timeout_seconds": bad}}, source="test")
