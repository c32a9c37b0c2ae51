"""Static checks of the Dockerfile (no Docker engine is needed: the text is parsed, not built)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and backslash continuations joined."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue  # comment lines inside a continuation are ignored by Docker
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        logical.append(current)
        current = ""
    if current:
        logical.append(current)
    out = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return _instructions()


def _args(instructions: list[tuple[str, str]], keyword: str) -> list[str]:
    return [a for k, a in instructions if k == keyword]


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), args
    return [str(v) for v in value]


def test_every_stage_is_slim(instructions: list[tuple[str, str]]) -> None:
    froms = _args(instructions, "FROM")
    assert len(froms) >= 2, "expected a multi-stage build"
    for args in froms:
        image = args.split()[0]
        assert re.fullmatch(r"python:3\.\d+-slim", image), image


def test_runs_as_non_root(instructions: list[tuple[str, str]]) -> None:
    users = _args(instructions, "USER")
    assert users, "no USER instruction: the container would run as root"
    final = users[-1].split(":")[0]
    assert final not in {"root", "0"}
    # the USER comes after the last FROM (i.e. applies to the runtime stage)
    keywords = [k for k, _ in instructions]
    last_from = max(i for i, k in enumerate(keywords) if k == "FROM")
    assert any(k == "USER" for k in keywords[last_from:])


def test_healthcheck_hits_healthz(instructions: list[tuple[str, str]]) -> None:
    (check,) = _args(instructions, "HEALTHCHECK")
    assert "/healthz" in check
    assert "8080" in check
    assert "curl" not in check and "wget" not in check  # neither exists in python:*-slim


def test_entrypoint_runs_notifbot_serve(instructions: list[tuple[str, str]]) -> None:
    (entrypoint,) = _args(instructions, "ENTRYPOINT")
    (cmd,) = _args(instructions, "CMD")
    argv = _exec_form(entrypoint) + _exec_form(cmd)
    assert argv[:2] == ["notifbot", "serve"]
    assert argv[argv.index("--port") + 1] == "8080"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"


def test_exposes_8080(instructions: list[tuple[str, str]]) -> None:
    exposed = " ".join(_args(instructions, "EXPOSE")).split()
    assert "8080" in exposed or "8080/tcp" in exposed


def test_state_volume_and_no_default_config(instructions: list[tuple[str, str]]) -> None:
    assert _args(instructions, "WORKDIR")[-1] == "/app"
    assert any("/app/var" in v for v in _args(instructions, "VOLUME"))
    # config is optional: NOTIFBOT_CONFIG must not be baked in (it would name a file that may not be mounted)
    assert not any("NOTIFBOT_CONFIG" in e for e in _args(instructions, "ENV"))


def test_dockerignore_keeps_state_and_tests_out() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", ".git", "tests"} <= patterns


def test_the_build_hook_is_copied_with_the_project(instructions: list[tuple[str, str]]) -> None:
    """pyproject's custom build hook compiles the catalogs: without it in the build context `pip install .` fails."""
    import tomllib

    hook = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    path = hook["hooks"]["custom"]["path"]
    assert any(path in args.split() for args in _args(instructions, "COPY"))
    lines = (REPO / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert path not in ignored
