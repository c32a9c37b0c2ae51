"""The real `notifbot serve` process against slow and numerous clients: bounded header and body reads, a
connection cap, and an open-file limit checked at start-up (issue #10 item 2)."""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fakes.graph import FakeGraph
from tests.integration.process import BotProcess
from tests.integration.raw_http import read_answer, status_of, wait_closed
from tests.integration.test_http_limits import every_endpoint_bot, graph

__all__ = ["graph"]  # the fixture, re-exported for pytest
pytestmark = pytest.mark.slow


def started(procs: list[BotProcess], bot: BotProcess) -> BotProcess:
    procs.append(bot)
    bot.start()
    return bot


def plain_bot(tmp: Path, server: dict[str, object], nofile: tuple[int, int] | None = None) -> BotProcess:
    return BotProcess(tmp, {"storage": {"path": str(tmp / "notifbot.db")}, "server": server}, nofile=nofile)


def settle(bot: BotProcess, graph: FakeGraph) -> None:
    """Waits out the start-up: the first Graph call imports msgraph, which holds the event loop for seconds."""
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "the bot never settled"
        start = time.monotonic()
        httpx.get(f"{bot.url}/healthz", timeout=30)
        if graph.subscriptions and time.monotonic() - start < 0.5:
            return
        time.sleep(0.05)


def dribble_until_closed(
    sock: socket.socket, give_up: float, every: float = 0.2
) -> tuple[float | None, bytes]:
    """Sends one byte every `every` s until the server closes the connection; (seconds, what it sent)."""
    start = time.monotonic()
    answer = b""
    while time.monotonic() - start < give_up:
        try:
            sock.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start, answer
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                return time.monotonic() - start, answer
            answer += data
            if not data:
                return time.monotonic() - start, answer
    return None, answer


def test_dribbled_and_idle_headers_are_cut_off_within_the_header_timeout(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    bot = started(procs, plain_bot(tmp_path, {"header_timeout_seconds": 1}))
    with (
        socket.create_connection(("127.0.0.1", bot.port)) as idle,
        socket.create_connection(("127.0.0.1", bot.port)) as slow,
    ):
        slow.sendall(b"POST /hooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        took, answer = dribble_until_closed(slow, give_up=10)
        assert took is not None and took < 5, f"a dribbling client kept its connection for {took} s"
        assert status_of(answer) == 408
        closed = wait_closed(idle, timeout=5)
        assert closed is not None, "a connection that never sends a byte stays open"
    # a keep-alive client that sends its next request in time is not affected
    with httpx.Client(base_url=bot.url) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(0.5)


def test_a_body_that_trickles_in_is_answered_408_within_the_body_timeout(
    tmp_path: Path, graph: FakeGraph, procs: list[BotProcess]
) -> None:
    bot = every_endpoint_bot(tmp_path, graph, server={"body_timeout_seconds": 1})
    started(procs, bot)
    settle(bot, graph)

    def trickle(path: str) -> tuple[float | None, bytes]:
        with socket.create_connection(("127.0.0.1", bot.port)) as sock:
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            sock.sendall(head.encode() + b"Content-Length: 100000\r\n\r\n{")
            return dribble_until_closed(sock, give_up=10)

    paths = ("/hooks/events", "/slack/events", "/teams/notifications")
    with ThreadPoolExecutor(
        len(paths)
    ) as pool:  # each request has its own clock: side by side, not one by one
        results = list(pool.map(trickle, paths))
    for path, (took, answer) in zip(paths, results, strict=True):
        assert took is not None and took < 5, f"{path}: a trickling body kept the request open {took} s"
        assert status_of(answer) == 408, (path, answer[:200])
        assert b"server.body_timeout_seconds" in answer


def test_with_the_cap_reached_normal_requests_get_an_answer_fast(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    """300 slow-header connections against a process with 128 open files: nobody waits on a full fd table."""
    server = {"max_connections": 24, "header_timeout_seconds": 3}
    bot = started(procs, plain_bot(tmp_path, server, nofile=(128, 128)))
    attackers = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", bot.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            attackers.append(sock)
        answers = []
        for _ in range(10):
            start = time.monotonic()
            with socket.create_connection(("127.0.0.1", bot.port), timeout=5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                answers.append((status_of(read_answer(sock, timeout=5)), time.monotonic() - start))
        assert all(status in (200, 503) and took < 2 for status, took in answers), answers
        assert any(status == 503 for status, _ in answers), "the cap was never reached"
        time.sleep(3.5)  # the slow connections hit the header timeout and are closed
        assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200
    finally:
        for sock in attackers:
            sock.close()


def test_serve_raises_its_soft_open_file_limit_or_refuses_to_start(
    tmp_path: Path, procs: list[BotProcess]
) -> None:
    (tmp_path / "a").mkdir()
    bot = started(procs, plain_bot(tmp_path / "a", {"max_connections": 400}, nofile=(256, 4096)))
    assert bot.proc is not None
    limits = Path(f"/proc/{bot.proc.pid}/limits").read_text()
    [soft] = [int(line.split()[3]) for line in limits.splitlines() if line.startswith("Max open files")]
    assert soft >= 2 * 400 + 64
    (tmp_path / "b").mkdir()
    low = plain_bot(tmp_path / "b", {"max_connections": 400}, nofile=(256, 256))
    with pytest.raises(RuntimeError, match="exited early"):
        low.start(timeout=20)
    assert "server.max_connections" in low.stderr() and "LimitNOFILE" in low.stderr()


def test_check_config_validates_the_new_server_keys(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server: {max_connections: 0, header_timeout_seconds: -1, body_timeout_seconds: 0}\n")
    run = subprocess.run(
        [sys.executable, "-m", "notifbot", "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "server.max_connections: Input should be greater than or equal to 1" in run.stdout, run.stdout
    assert "server.header_timeout_seconds: Input should be greater than 0" in run.stdout
    assert "server.body_timeout_seconds: Input should be greater than 0" in run.stdout


def test_honest_large_requests_within_the_limits_are_served(tmp_path: Path, procs: list[BotProcess]) -> None:
    """The clocks and caps leave room: 40 KB of headers, a 700 KB body paced over ~1.5 s, both answered 202."""
    bot = started(procs, plain_bot(tmp_path, {"body_timeout_seconds": 4, "header_timeout_seconds": 2}))
    event = json.dumps({"kind": "other", "id": "big-1", "fields": {"blob": "x" * 700_000}}).encode()
    with socket.create_connection(("127.0.0.1", bot.port), timeout=10) as sock:
        head = b"POST /hooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += b"".join(b"X-Trace-%d: %s\r\n" % (i, b"t" * 1000) for i in range(40))
        sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(event))
        for start in range(0, len(event), 100_000):
            sock.sendall(event[start : start + 100_000])
            time.sleep(0.2)
        answer = read_answer(sock)
    assert status_of(answer) == 202, answer[:300]
