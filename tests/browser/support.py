"""What the browser tests share besides fixtures: finding Chromium, building a static page, running axe.

Imports no Playwright at module level, so a machine without it still collects the suite (and skips these tests).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from markupsafe import Markup, escape

from notifbot.render.html import STATIC_DIR

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM_ENV = "NOTIFBOT_CHROMIUM"
# read at import: the autouse clean_env fixture (tests/conftest.py) removes every NOTIFBOT_* variable per test
CONFIGURED_CHROMIUM = os.environ.get(CHROMIUM_ENV) or None
PACKAGES = ("playwright", "axe_playwright_python")
INSTALL_HINT = (
    f"install Chromium (`apt-get install --no-install-recommends chromium`, as root) or set {CHROMIUM_ENV} to a "
    "Chromium executable, and the test extra (`pip install -e '.[test]'`)"
)
SKIP_MARK = "browser tests not run"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHAT_CSS = (STATIC_DIR / "chat.css").read_text(encoding="utf-8")
# the rule sets axe checks: WCAG 2.x levels A and AA (the "best-practice" rules are advice, not a failure)
AXE_TAGS = ("wcag2a", "wcag2aa")


def _unavailable(reason: str) -> NoReturn:
    """Skips (developer machine) or fails (CI=true) the browser tests, saying why and how to run them."""
    message = f"{SKIP_MARK}: {reason}; to run them, {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (under CI they must run: .ci/run installs Chromium)", pytrace=False)
    pytest.skip(message)


def chromium_executable(configured: str | None = CONFIGURED_CHROMIUM) -> str:
    """The Chromium to drive (`configured`, else `chromium` on PATH) once it and Playwright are there; otherwise
    skips, or fails under CI."""
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        _unavailable(f"the Python package(s) {', '.join(missing)} are not installed")
    if configured is not None:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            _unavailable(f"{CHROMIUM_ENV}={configured} is not an executable file")
        return configured
    found = shutil.which("chromium")
    if found is None:
        _unavailable("no `chromium` on PATH")
    return found


def launch_failed(executable: str, error: Exception) -> NoReturn:
    """A Chromium that is there but does not start: skipped on a developer machine, a failure under CI."""
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    _unavailable(f"{executable} did not start ({first_line})")


def skipped_browser_line(reasons: list[str]) -> str | None:
    """The one summary line `make test` prints when browser tests were skipped, or None when none were."""
    count = sum(1 for r in reasons if SKIP_MARK in r)
    if count == 0:
        return None
    return f"{count} browser test(s) skipped: to run them, {INSTALL_HINT} (CI=true makes them fail instead)"


def document(body: Markup | str, *, title: str, lang: str = "en", css: Iterable[str] = (CHAT_CSS,)) -> str:
    """A whole HTML page for `page.set_content`: `body` (already HTML) under a title, with `css` inlined (chat.css
    by default, as the sandbox and console serve it), so a static page needs no server."""
    styles = "\n".join(css)
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{styles}</style></head><body>{body}</body></html>"
    )


def axe_violations(page: Page, context: Any = None) -> list[str]:
    """axe-core's WCAG 2 A/AA violations on the page as it is now (or within `context`, an axe selector), one
    line per rule with its first offending nodes; [] when there are none."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    options = {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations"]}
    results = Axe().run(page, context=context, options=options)
    lines = []
    for violation in results.response["violations"]:
        nodes = violation["nodes"]
        shown = "; ".join(_node(n) for n in nodes[:3])
        lines.append(f"{violation['id']} ({violation['impact']}, {len(nodes)} node(s)): {shown}")
    return lines


def _node(node: dict[str, Any]) -> str:
    """One offending node: its selector, its HTML (cut) and axe's first reason."""
    reasons = [c["message"] for kind in ("any", "all", "none") for c in node.get(kind, [])]
    return f"{', '.join(map(str, node['target']))} {node.get('html', '')[:120]!r}: {(reasons or ['?'])[0]}"
