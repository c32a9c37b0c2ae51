"""Shared fixtures: every test starts with a clean environment and its own temp state."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# the `postgres_url` fixture: a fresh database on the test PostgreSQL server per module (tests/pg_support.py)
pytest_plugins = ["tests.pg_support"]

# Where PYTHONDONTWRITEBYTECODE is set, each xdist worker re-rewrote every test module's asserts and each
# `notifbot serve` child recompiled the package at start: bytecode goes to a cache outside the tree instead. Set
# here, before the workers and children start, so they inherit it.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    os.environ.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "notifbot-test-pycache"))
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
    sys.dont_write_bytecode = False

# Property-based tests run a bounded number of examples in `make test` (HYPOTHESIS_PROFILE=deep for more).
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_PREFIXES = ("SLACK_", "NOTIFBOT_", "MARKETO_", "ADOBE_", "GRAPH_", "TEAMS_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A developer's SLACK_* (or other) variables never leak into a test; the cwd holds no notifbot.yaml."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with `slow` tests (subprocesses, crash tests) run first: xdist hands out whole modules in this order
    (pyproject: --no-loadscope-reorder), so the many quick ones fill the workers' last minutes instead of one
    process test keeping a single worker busy after the others are done."""
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(
        key=lambda item: item.nodeid.split("::")[0] not in slow_modules
    )  # stable: keeps the order within


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line after the run per kind of test skipped for want of a server or a browser, saying how to run them
    (skip reasons are hidden)."""
    from tests.browser.support import skipped_browser_line
    from tests.pg_support import skipped_postgres_line  # imported as a plugin (pytest_plugins) first

    reasons = [str(r.longrepr) for r in terminalreporter.stats.get("skipped", [])]
    for line in (skipped_postgres_line(reasons), skipped_browser_line(reasons)):
        if line is not None:
            terminalreporter.write_line(line, yellow=True)
