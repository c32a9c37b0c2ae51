"""The distribution name and every `pip install` hint: they must never fetch someone else's package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from notifbot.config.checks import TEAMS_EXTRA_INSTALL

REPO = Path(__file__).resolve().parents[2]
# Names on the public package index that belong to other people's projects: installing them would put a
# stranger's code into notifbot's environment (`notifbot` there is an unrelated 2021 package).
TAKEN_ON_PUBLIC_INDEX = frozenset({"notifbot"})
# Third-party requirements a hint may name besides notifbot itself (the build tooling's own upgrade)
OTHER_ALLOWED = frozenset({"pip"})
# Where users and operators read install hints; CHANGELOG.md is history and keeps the names of its time
HINT_FILES = ("README.md", "Dockerfile", "Makefile", "bench/README.md")
HINT_DIRS = ("src", "examples", "bench", "manifests")

_HINT = re.compile(r"\bpip3?\s+install\b(?P<args>[^\n`]*)")
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|\S+")
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9_,\s-]+\])?([<>=!~;].*)?$")


def canonical(name: str) -> str:
    """PEP 503 normalisation: `Marketo_Notifbot` and `marketo-notifbot` are one project to pip."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def dist_name() -> str:
    return canonical(pyproject()["project"]["name"])


def is_local_path(token: str) -> bool:
    return token.startswith((".", "/", "~", "$")) or "/" in token


def hint_targets(args: str) -> list[str]:
    """The requirements and paths one `pip install …` names, up to the first word that is neither."""
    out: list[str] = []
    for raw in _TOKEN.findall(args):
        token = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" else raw
        if token.startswith("-"):
            continue  # an option (-e, --quiet, --upgrade): the path or requirement follows
        if is_local_path(token) or _REQUIREMENT.match(token):
            out.append(token)
            continue
        break  # prose, a closing quote, `\`, `(`, `&&`: the command ended
    return out


def hint_sources() -> list[Path]:
    files = [REPO / f for f in HINT_FILES if (REPO / f).exists()]
    for d in HINT_DIRS:
        files += sorted(p for p in (REPO / d).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def all_hints() -> list[tuple[str, str]]:
    """(file relative to the repo, requirement or path) for every `pip install` target in the hint sources."""
    found: list[tuple[str, str]] = []
    for path in hint_sources():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for m in _HINT.finditer(text):
            found += [(str(path.relative_to(REPO)), t) for t in hint_targets(m.group("args"))]
    return found


def test_the_distribution_name_is_not_a_stranger_s_project_on_the_public_index() -> None:
    # `pip install 'notifbot[teams]'` installed an unrelated package called notifbot (issue #10, item 6)
    assert dist_name() not in TAKEN_ON_PUBLIC_INDEX


def test_the_self_reference_in_the_extras_names_this_distribution() -> None:
    # `test = ["notifbot[teams]"]` would make `pip install -e '.[test]'` fetch the stranger's notifbot
    extras: dict[str, list[str]] = pyproject()["project"]["optional-dependencies"]
    dependencies: list[str] = pyproject()["project"]["dependencies"]
    names = {
        canonical(m.group("name"))
        for req in [*dependencies, *(r for reqs in extras.values() for r in reqs)]
        if (m := _REQUIREMENT.match(req.replace(" ", "")))
    }
    assert not names & TAKEN_ON_PUBLIC_INDEX
    assert dist_name() in names, "the test extra pulls the teams extra of this distribution"


def test_every_pip_install_hint_names_this_distribution_or_a_local_path() -> None:
    hints = all_hints()
    wrong = [
        (where, target)
        for where, target in hints
        if not is_local_path(target)
        and (m := _REQUIREMENT.match(target)) is not None
        and canonical(m.group("name")) not in {dist_name(), *OTHER_ALLOWED}
    ]
    assert wrong == []
    # the scan really sees the hints users read (so this test cannot pass by finding nothing)
    where = {w for w, _ in hints}
    assert {"README.md", "Makefile", "Dockerfile", "src/notifbot/config/checks.py"} <= where
    assert ("src/notifbot/config/checks.py", f"{dist_name()}[teams]") in hints


def test_the_teams_hint_printed_by_check_config_and_teams_login_names_this_distribution() -> None:
    assert hint_targets(TEAMS_EXTRA_INSTALL.split("pip install", 1)[1])[0] == f"{dist_name()}[teams]"


@pytest.mark.parametrize(
    ("args", "targets"),
    [
        (" 'notifbot[teams]' (msgraph-sdk, azure-identity)", ["notifbot[teams]"]),
        (" --quiet -e '.[test]'", [".[test]"]),
        (' ".${EXTRAS:+[$EXTRAS]}"', [".${EXTRAS:+[$EXTRAS]}"]),
        (" --upgrade pip \\", ["pip"]),
        (" 'notifbot[teams]'\", file=sys.stderr)", ["notifbot[teams]"]),
        (" -U notifbot && notifbot --help", ["notifbot"]),
    ],
)
def test_hint_parsing(args: str, targets: list[str]) -> None:
    assert hint_targets(args) == targets
