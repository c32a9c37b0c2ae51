"""What tools/screenshots.py needs around its pictures: an emoji font, Chromium, and a running sandbox.

`notifbot sandbox --marketo` runs in a subprocess (a free loopback port, its database in a folder of the caller's)
until the `sandbox` block ends; Chromium is the system's (NOTIFBOT_CHROMIUM, else `chromium` on PATH).
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0  # the sandbox prints its page's address once the bot answers
STOP_SECONDS = 15.0
EMOJI_PACKAGE = "fonts-noto-color-emoji"


class ToolError(Exception):
    """The pictures cannot be taken: no Chromium, or the sandbox did not start."""


def say(message: str) -> None:
    """One progress line."""
    print(f"screenshots: {message}", flush=True)


# --- what the pictures need: an emoji font, Chromium ---------------------------------------------------------


def has_emoji_font() -> bool:
    """Whether fontconfig knows an emoji font (the messages' headers start with 🔴, 🟠 or ✅)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    listing = subprocess.run([fc_list], capture_output=True, text=True, check=False).stdout
    return "emoji" in listing.lower()


def ensure_emoji_font(install: bool) -> None:
    """Installs Debian's colour emoji font when none is there and we are root (`install`); else warns."""
    if has_emoji_font():
        return
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        say(
            f"no emoji font (the headers' emoji would be boxes): installing Debian's {EMOJI_PACKAGE} with apt-get"
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends", EMOJI_PACKAGE]
        if subprocess.run(apt, env=env, capture_output=True, check=False).returncode != 0:
            say("apt-get install failed: running apt-get update and trying once more")
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
            subprocess.run(apt, env=env, capture_output=True, check=False)
        if has_emoji_font():
            say(f"{EMOJI_PACKAGE} installed")
            return
    say(
        f"warning: no emoji font (`fc-list | grep -i emoji` finds none): emoji will show as boxes; "
        f"install one, e.g. `apt-get install {EMOJI_PACKAGE}` as root"
    )


def chromium_executable() -> str:
    """NOTIFBOT_CHROMIUM, else `chromium` (or `chromium-browser`) on PATH."""
    configured = os.environ.get("NOTIFBOT_CHROMIUM")
    if configured:
        if not os.access(configured, os.X_OK):
            raise ToolError(f"NOTIFBOT_CHROMIUM={configured} is not an executable file")
        return configured
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise ToolError(
            "no Chromium: install Debian's (`apt-get install --no-install-recommends chromium`, as root) "
            "or set NOTIFBOT_CHROMIUM to a Chromium executable"
        )
    return found


# --- the sandbox, in a subprocess ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sandbox:
    """A running `notifbot sandbox`: its page and the bot beside it."""

    url: str
    bot_url: str


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lines(stream: Iterator[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@contextmanager
def sandbox(workdir: Path) -> Iterator[Sandbox]:
    """`notifbot sandbox --marketo` on a free port with its database in `workdir`, until the block ends."""
    log_path = workdir / "sandbox.log"
    command = [
        sys.executable,
        "-m",
        "notifbot",
        "sandbox",
        "--marketo",
        "--port",
        str(free_port()),
        "--db",
        str(workdir / "sandbox.db"),
        "--log-format",
        "text",
    ]
    # this checkout's sources, the embedded default config: no ./notifbot.yaml in workdir, no NOTIFBOT_CONFIG
    paths = [
        str(ROOT / "src"),
        *(str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(":") if p),
    ]
    env = {k: v for k, v in os.environ.items() if k != "NOTIFBOT_CONFIG"} | {"PYTHONPATH": ":".join(paths)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            assert proc.stdout is not None
            lines: queue.Queue[str | None] = queue.Queue()
            threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
            found: dict[str, str] = {}
            while len(found) < 2:
                try:
                    line = lines.get(timeout=START_SECONDS)
                except queue.Empty:
                    line = None
                if line is None:
                    tail = log_path.read_text(errors="replace").splitlines()[-15:]
                    raise ToolError("the sandbox did not start:\n  " + "\n  ".join(tail))
                for key, prefix in (("url", "notifbot sandbox: "), ("bot", "  the bot: ")):
                    if line.startswith(prefix):
                        found[key] = line[len(prefix) :].split()[0]
            yield Sandbox(found["url"], found["bot"])
        finally:
            proc.terminate()  # SIGTERM: the bot drains and both servers stop, as with Ctrl-C
            try:
                proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- files -----------------------------------------------------------------------------------------------------


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)
