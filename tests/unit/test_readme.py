"""The README names only paths that exist, and its layout describes every package under src/notifbot."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "notifbot"
README = (REPO / "README.md").read_text(encoding="utf-8")
TOP_DIRS = ("src/", "tests/", "bench/", "docs/", "examples/", "manifests/")


def _layout() -> str:
    """The code block of the Development section's layout."""
    match = re.search(r"\nLayout of `src/notifbot/`[^\n]*\n\n```\n(.*?)\n```", README, re.S)
    assert match is not None, "README: the layout block under Development is gone"
    return match.group(1)


def _exists(name: str) -> bool:
    """`a/b.py`, `a/b/` or a glob such as `sources/marketo_*.py`, relative to src/notifbot."""
    return any(PACKAGE.glob(name.rstrip("/"))) or (PACKAGE / name).exists()


def test_every_path_the_layout_names_exists() -> None:
    layout = _layout()
    paths = set(re.findall(r"(?<![/\w])[a-z_][\w*]*(?:/[\w*]+)*(?:\.py|/)", layout))  # not URL paths
    assert len(paths) > 15, paths  # the pattern still finds them
    missing = sorted(p for p in paths if not _exists(p) and not any(PACKAGE.rglob(p)))
    assert missing == []
    # a path with a folder must exist exactly there, not only by its file name
    assert sorted(p for p in paths if "/" in p.rstrip("/") and not _exists(p)) == []


def test_the_layout_describes_every_package() -> None:
    layout = _layout()
    packages = sorted(
        str(init.parent.relative_to(PACKAGE)) + "/"
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    )
    assert "sources/adobe_io/" in packages  # nested ones are found too
    assert [p for p in packages if p not in layout] == []


def test_every_repository_path_the_readme_names_exists() -> None:
    named = {m for m in re.findall(r"`([^`\s]+)`", README) if m.startswith(TOP_DIRS)}
    named |= set(re.findall(r"\]\(((?:docs|examples|bench|manifests)/[^)#\s]+)", README))
    assert {"examples/notifbot.yaml", "docs/reference.md"} <= named
    assert sorted(p for p in named if not (REPO / p).exists()) == []


def test_the_docker_run_line_starts_the_example_config() -> None:
    """The variables the README's `docker run` passes are all the example config needs (issue #16)."""
    from notifbot.config import environment_problems, load_settings
    from notifbot.config.env import Env

    block = re.search(r"\n(docker run .*?)\n```", README, re.S)
    assert block is not None, "README: the docker run example is gone"
    names = re.findall(r"-e ([A-Z_]+)=", block.group(1))
    assert "SLACK_SIGNING_SECRET" in names
    environ = {name: "C0123ABCD" if name.startswith("SLACK_CHANNEL") else "x" for name in names}
    environ.pop("NOTIFBOT_CONFIG")
    settings = load_settings(str(REPO / "examples" / "notifbot.yaml"), environ)
    assert environment_problems(settings, Env(environ)) == []


def _shell_commands() -> list[list[str]]:
    """Every command line of the README's `sh` blocks, split as the shell would (comments dropped)."""
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [argv for line in lines if (argv := shlex.split(line, comments=True))]


def test_every_notifbot_command_in_the_readme_parses() -> None:
    """A `.venv/bin/notifbot …` line the README tells you to type is one the command line accepts."""
    from notifbot.cli import build_parser

    commands = [argv[1:] for argv in _shell_commands() if argv[0] == ".venv/bin/notifbot"]
    assert ["sandbox", "--marketo"] in commands
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit as exc:
            raise AssertionError(f"README: `notifbot {' '.join(argv)}` does not parse") from exc


def test_every_make_target_in_the_readme_exists() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = {argv[1] for argv in _shell_commands() if argv[0] == "make" and len(argv) > 1}
    named |= set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert {"run", "sandbox", "screenshots", "test"} <= named
    assert sorted(named - targets) == []
