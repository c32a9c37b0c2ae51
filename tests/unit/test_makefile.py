"""The Makefile's entry points, read with `make -n` (nothing runs): what `run` installs, its PORT/HOST, `clean`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str, venv: Path, env: dict[str, str] | None = None) -> list[str]:
    """The commands `make ARGS` would run with its venv at `venv`, one a line."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST", "MAKEFLAGS", "MFLAGS")}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", *args, f"VENV={venv}"],
        cwd=ROOT,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.splitlines()


def installed(venv: Path, *stamps: str) -> None:
    """A venv that exists, with these install stamps newer than pyproject.toml."""
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    for stamp in stamps:
        (venv / stamp).touch()


def test_run_installs_only_the_runtime_and_test_installs_the_test_tools(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run = dry_run("run", venv=venv)
    assert f"{venv}/bin/python -m pip uninstall --quiet --yes notifbot" in run  # a pre-rename venv's leftover
    assert f"{venv}/bin/python -m pip install --quiet -e ." in run
    assert not [line for line in run if "[test]" in line or "[teams]" in line]
    assert run[-1] == f"{venv}/bin/notifbot serve"
    test = dry_run("test", venv=venv)
    assert f"{venv}/bin/python -m pip uninstall --quiet --yes notifbot" in test
    assert f"{venv}/bin/python -m pip install --quiet -e '.[test]'" in test
    for target in ("lint", "bench", "mutation", "messages", "format", "chaos", "screenshots"):
        assert f"{venv}/bin/python -m pip install --quiet -e '.[test]'" in dry_run(target, venv=venv), target


def test_a_test_install_serves_run_and_a_run_install_does_not_serve_test(tmp_path: Path) -> None:
    run_only = tmp_path / "run-only"
    installed(run_only, ".installed-run")
    assert dry_run("run", venv=run_only) == [f"{run_only}/bin/notifbot serve"]
    assert f"{run_only}/bin/python -m pip install --quiet -e '.[test]'" in dry_run("test", venv=run_only)
    tested = tmp_path / "tested"
    installed(tested, ".installed-run", ".installed-test")
    assert dry_run("run", venv=tested) == [f"{tested}/bin/notifbot serve"]


def test_run_takes_port_and_host(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    installed(venv, ".installed-run")
    serve = f"{venv}/bin/notifbot serve"
    assert dry_run("run", "PORT=9090", venv=venv) == [f"{serve} --port 9090"]
    assert dry_run("run", venv=venv, env={"PORT": "9191"}) == [f"{serve} --port 9191"]
    assert dry_run("run", "PORT=9090", "HOST=0.0.0.0", venv=venv) == [f"{serve} --port 9090 --host 0.0.0.0"]
    # a shell's own HOST (the machine's name, exported by some shells) is not an address to listen on
    assert dry_run("run", venv=venv, env={"HOST": "build-box"}) == [serve]


def test_clean_keeps_the_data_and_clean_data_says_what_it_deletes(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    [clean] = dry_run("clean", venv=venv)
    assert clean.startswith(f"rm -rf {venv} ") and "var" not in clean.split()
    wipe = dry_run("clean-data", venv=venv)
    assert wipe[-1] == "rm -rf var"
    said = " ".join(wipe[:-1])
    assert "stored events" in said and "undelivered messages" in said and "var/" in said
