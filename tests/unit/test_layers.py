"""The layer contract in pyproject.toml holds (import-linter), and it does catch an upward import or a cycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path, src: Path) -> subprocess.CompletedProcess[str]:
    """Runs import-linter on the notifbot package under `src` with the contracts in `root`/pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_its_layers() -> None:
    result = _lint(REPO, REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the repository's package and contracts to break on purpose."""
    shutil.copytree(REPO / "src" / "notifbot", tmp_path / "src" / "notifbot")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_an_upward_import_breaks_the_contract(copy: Path) -> None:
    model = copy / "src" / "notifbot" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nimport notifbot.commands.handlers  # noqa\n")
    result = _lint(copy, copy / "src")
    assert result.returncode != 0
    assert "notifbot.model is not allowed to import notifbot.commands" in result.stdout


def test_a_new_module_must_be_given_a_layer(copy: Path) -> None:
    (copy / "src" / "notifbot" / "stray.py").write_text('"""Not in any layer."""\n', encoding="utf-8")
    result = _lint(copy, copy / "src")
    assert result.returncode != 0
    assert "notifbot.stray" in result.stdout


def test_a_cycle_inside_a_package_breaks_the_contract(copy: Path) -> None:
    runner = copy / "src" / "notifbot" / "store" / "runner.py"
    runner.write_text(runner.read_text(encoding="utf-8") + "\nimport notifbot.store.events  # noqa\n")
    events = copy / "src" / "notifbot" / "store" / "events.py"
    events.write_text(events.read_text(encoding="utf-8") + "\nimport notifbot.store.runner  # noqa\n")
    result = _lint(copy, copy / "src")
    assert result.returncode != 0
    assert "No cycles are allowed in notifbot.store" in result.stdout
