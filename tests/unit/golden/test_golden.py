"""English golden snapshot (docs/design/locale.md §10.6): with no locale configured, every message is byte-identical.

Every bundled sample through every alert renderer (Slack plain, interactive, acknowledged, group, digest; Teams;
the console destination; thread replies) and every `/marketo` reply through the Slack and Teams reply renderers
is compared byte for byte with its file under tests/data/golden/en/; a mismatch shows a unified diff.

Regenerate after an intended change with `NOTIFBOT_GOLDEN_UPDATE=1 pytest tests/unit/golden`: that run rewrites
the files that differ (and deletes files no case produces) and still FAILS, saying what it rewrote, so it can
never pass silently; review `git diff tests/data/golden`, then run again without the variable.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from notifbot.render.slack_reply import render_reply
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Reply
from notifbot.store.runner import Database
from tests.unit.commands.conftest import Harness, make_harness, settings
from tests.unit.golden.alerts import CASES
from tests.unit.golden.commands import COMMANDS
from tests.unit.golden.snapshot import GOLDEN, UPDATE_VAR, check, orphans, updating

REPLY_RENDERERS = {"slack": render_reply, "teams": render_teams_reply}
COMMAND_FILES = {f"commands/{r}/{name}.json": (name, r) for name in COMMANDS for r in REPLY_RENDERERS}


@pytest.mark.parametrize("rel", list(CASES))
def test_alert_output_matches_golden(rel: str) -> None:
    check(rel, CASES[rel]())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty database, created once: a copy opens in milliseconds, a new one takes 0.1 s."""
    path = tmp_path_factory.mktemp("golden") / "template.db"
    Database(path).close()
    return path


@pytest.fixture
async def db(template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    shutil.copyfile(template, tmp_path / "n.db")
    database = Database(tmp_path / "n.db")
    yield database
    database.close()


@pytest.mark.parametrize("rel", list(COMMAND_FILES))
async def test_command_reply_matches_golden(rel: str, db: Database) -> None:
    name, renderer = COMMAND_FILES[rel]
    overrides, ask = COMMANDS[name]
    h: Harness = make_harness(db, settings(**overrides))
    reply: Reply = await ask(h)
    out: dict[str, Any] = REPLY_RENDERERS[renderer](reply)
    check(rel, out)


def test_every_golden_file_belongs_to_a_case() -> None:
    stale = orphans(set(CASES) | set(COMMAND_FILES))
    if updating() and stale:
        for rel in stale:
            (GOLDEN / rel).unlink()
        pytest.fail(f"{UPDATE_VAR} is set: deleted {len(stale)} file(s) no case produces: {stale}")
    assert stale == [], f"golden files no case produces (delete them, or run with {UPDATE_VAR}=1): {stale}"
