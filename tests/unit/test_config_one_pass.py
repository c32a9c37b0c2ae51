"""check-config's one pass: what remains of an invalid config is checked, in the file's numbering; typo distance."""

from __future__ import annotations

import pytest

from notifbot.config import ConfigError, inspect_settings, parse_settings
from notifbot.config.route_checks import closest, distance


@pytest.mark.parametrize(
    ("a", "b", "n"),
    [
        ("knd", "kind", 1),
        ("instnace", "instance", 1),
        ("severty", "severity", 1),
        ("kind", "kind", 0),
        ("", "ab", 2),
    ],
)
def test_distance_counts_edits_and_swaps(a: str, b: str, n: int) -> None:
    assert distance(a, b) == n


def test_closest_takes_only_near_misses() -> None:
    assert closest("crm_synch", ["crm_sync", "audit"]) == "crm_sync"
    assert closest("kinds", ["kind", "severity", "instance"]) == "kind"
    assert closest("id", ["kind", "severity", "instance"]) is None  # too short to call a typo
    assert closest("team", ["kind", "severity", "instance"]) is None
    assert closest("deploy_finished", ["crm_sync"]) is None


def test_problems_after_a_refused_route_keep_the_files_numbering() -> None:
    data = {
        "destinations": {"ops": {"type": "console"}},
        "routes": [
            {"match": {"kind": "audit"}, "to": "ops"},
            {"match": {"kind": "audit"}},  # refused: no `to`
            {"match": {"severity": "urgent"}, "to": ["ops", "nowhere"]},
            {"to": "ops"},
        ],
    }
    settings, problems, _ = inspect_settings(data, source="t")
    assert settings is not None and len(settings.routes) == 3  # the rest, checked
    assert [p.split(":")[0] for p in problems] == [
        "routes[1].to",
        "routes[2].to[1]",
        "routes[2].match.severity",
    ]
    with pytest.raises(ConfigError) as err:
        parse_settings(data, source="t")
    assert err.value.problems == problems


def test_nothing_left_to_check_gives_the_schema_errors_alone() -> None:
    settings, problems, _ = inspect_settings(["not", "a", "mapping"], source="t")
    assert settings is None and problems == ["(root): expected a mapping at the top of t, got list"]
