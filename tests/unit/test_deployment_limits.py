"""The open-file limit the systemd unit, the Dockerfile and the README set covers what `serve` needs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifbot.config import ServerSettings
from notifbot.http_server import FD_MARGIN, files_needed

REPO = Path(__file__).resolve().parents[2]
NEEDED = files_needed(ServerSettings().max_connections)


def unit() -> dict[str, list[str]]:
    """examples/notifbot.service as key -> values (systemd allows a key more than once)."""
    values: dict[str, list[str]] = {}
    for line in (REPO / "examples" / "notifbot.service").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def test_the_formula_is_the_one_documented() -> None:
    assert files_needed(400) == 2 * 400 + FD_MARGIN == 864
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"2 × server.max_connections + {FD_MARGIN}" in readme
    assert f"({files_needed(400)} for" in readme


def test_systemd_unit_sets_enough_open_files_and_runs_serve_unprivileged() -> None:
    u = unit()
    assert int(u["LimitNOFILE"][-1]) >= NEEDED
    assert u["User"][-1] not in ("root", "0")
    assert re.search(r"/notifbot serve\b", u["ExecStart"][-1])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("StateDirectory", "notifbot"),
    ],
)
def test_systemd_unit_is_hardened(key: str, value: str) -> None:
    assert unit()[key][-1] == value


def test_docker_instructions_pass_a_sufficient_ulimit() -> None:
    for doc in ("Dockerfile", "README.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        limits = [(int(soft), int(hard)) for soft, hard in re.findall(r"--ulimit nofile=(\d+):(\d+)", text)]
        assert limits, f"{doc} does not say which --ulimit to pass"
        assert all(min(pair) >= NEEDED for pair in limits), (doc, limits)
