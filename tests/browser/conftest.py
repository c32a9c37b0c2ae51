"""Browser fixtures: one Chromium per test module, a fresh context and page per test.

Per module, not per test process: while Playwright's sync API is started it marks its event loop as the thread's
running loop, even between calls, so any later `asyncio.run()` or async test in the same xdist worker would fail
("cannot be called from a running event loop"). A module stays on one worker (`--dist loadfile`) and stops its
Playwright when it ends. For the same reason a test here is never `async def` (a live server runs in a thread).

Without Chromium or Playwright the tests skip on a developer machine and fail under CI=true (tests/browser/support.py).
A failed test leaves a Playwright trace in tests/browser/artifacts/ (`playwright show-trace <file>`); a passing one
leaves nothing. Every test here is marked `browser` and, unless it says otherwise, `timeout(20)`.

Pages: `page.set_content(support.document(...))` for static HTML (no server), or a module overrides `context_options`
(e.g. `{"base_url": live.url}`) and the test calls `page.goto("/ui")` on its live server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.support import ARTIFACTS, chromium_executable, launch_failed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

HERE = Path(__file__).resolve().parent
TEST_TIMEOUT = 20  # seconds, per test (pytest-timeout), launch included
ACTION_TIMEOUT_MS = 5_000  # a locator or `expect` that waits longer fails well inside the test's timeout
_FAILED = pytest.StashKey[bool]()
_TRACED = pytest.StashKey[bool]()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Marks every test under tests/browser `browser` (so `-m "not browser"` leaves them out) with a 20 s timeout."""
    if HERE not in item.path.parents:
        return
    item.add_marker(pytest.mark.browser)
    if item.get_closest_marker("timeout") is None:
        item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


def trace_path(nodeid: str) -> Path:
    """Where a failed test's trace goes: its node id as a file name."""
    return ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("tests/browser/", 1)[-1]) + ".zip")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remembers a failed setup or call (the context fixture then keeps the trace) and says where the trace goes."""
    report = yield
    if report.failed and HERE in item.path.parents and report.when in ("setup", "call"):
        item.stash[_FAILED] = True
        if item.stash.get(_TRACED, False):
            report.sections.append(("browser trace", f"playwright show-trace {trace_path(item.nodeid)}"))
    return report


def browser_env(home: Path) -> dict[str, str | float | bool]:
    """The browser's environment: the tests' own, with a HOME of its own. Even with Playwright's temporary profile
    Chromium writes crash-report settings under ~/.config/chromium and a dconf cache under ~/.cache; with this it
    leaves the user's HOME untouched and runs where HOME is unset or not writable (CI containers, `nobody`)."""
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium, headless, launched once per test module (see the module's docstring for why not per worker)."""
    executable = chromium_executable()
    from playwright.sync_api import Error, sync_playwright

    env = browser_env(tmp_path_factory.mktemp("chromium-home"))
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, env=env)
        except Error as exc:
            launch_failed(executable, exc)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context_options() -> dict[str, Any]:
    """Extra `new_context` options; a module overrides this fixture (e.g. `base_url` of its live server)."""
    return {}


@pytest.fixture
def context(
    browser: Browser, context_options: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A fresh context (no cookies, no storage) per test, traced; the trace is kept only when the test failed."""
    options: dict[str, Any] = {
        "viewport": {"width": 1280, "height": 800},
        "locale": "en-US",
        "timezone_id": "UTC",
        "reduced_motion": "reduce",
        **context_options,
    }
    ctx = browser.new_context(**options)
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    ctx.tracing.start(snapshots=True, screenshots=False, sources=False)
    request.node.stash[_TRACED] = True
    yield ctx
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        ctx.tracing.stop(path=str(trace_path(request.node.nodeid)))
    else:
        ctx.tracing.stop()
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A new page in the test's own context."""
    from playwright.sync_api import expect

    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return context.new_page()
