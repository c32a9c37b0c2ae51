"""The browser tests' Chromium: missing, they skip on a developer machine (with one summary line saying how to run
them) and fail under CI, which must install it (.ci/run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.browser.support import chromium_executable, skipped_browser_line


def test_a_missing_chromium_skips_with_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=r"apt-get install --no-install-recommends chromium"
    ) as skip:
        chromium_executable("/nonexistent/chromium")
    line = skipped_browser_line([str(skip.value)])
    assert line is not None and line.startswith("1 browser test(s) skipped: to run them, install Chromium")


def test_a_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/run installs Chromium"):
        chromium_executable("/nonexistent/chromium")


def test_no_chromium_on_path_skips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match=r"no `chromium` on PATH"):
        chromium_executable(None)


def test_a_configured_executable_is_used_as_is() -> None:
    assert (
        chromium_executable(sys.executable) == sys.executable
    )  # any executable file: the launch tells the rest
    assert os.access(sys.executable, os.X_OK)


def test_no_line_when_nothing_was_skipped_for_want_of_a_browser() -> None:
    assert skipped_browser_line(["PostgreSQL tests not run: …"]) is None
