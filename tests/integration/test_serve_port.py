"""`notifbot serve` on a port someone else holds: one line saying what to do, a non-zero exit, nothing started."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.integration.process import BotProcess


def test_a_taken_port_stops_serve_with_what_to_do(tmp_path: Path, procs: list[BotProcess]) -> None:
    bot = BotProcess(tmp_path, None)  # the embedded default, as `make run` starts it
    procs.append(bot)
    with socket.socket() as holder:  # another program listening on the port first
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", bot.port))
        holder.listen()
        bot.spawn()
        assert bot.proc is not None
        assert bot.proc.wait(30) == 1
    lines = [json.loads(line) for line in bot.stderr().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    [line] = lines
    assert line["level"] == "error"
    message = line["msg"]
    assert f"port {bot.port} on 127.0.0.1 is already in use" in message
    for way in (f"make run PORT={bot.port + 1}", f"notifbot serve --port {bot.port + 1}", "server.port"):
        assert way in message
    assert "notifbot serving" not in bot.stderr() and bot.stdout() == ""
    assert not (tmp_path / "var").exists()  # nothing was opened: no database created for a bot that never ran


def test_serving_is_logged_for_the_bound_port(tmp_path: Path, procs: list[BotProcess]) -> None:
    bot = BotProcess(tmp_path, None)
    procs.append(bot)
    bot.start()
    lines = [json.loads(line) for line in bot.stderr().splitlines() if line.strip()]
    [serving] = [line for line in lines if line["msg"] == "notifbot serving"]
    assert serving["url"] == f"http://127.0.0.1:{bot.port}"
    assert not [line for line in lines if line["level"] in ("warning", "error")], lines
    assert bot.terminate() == 0
