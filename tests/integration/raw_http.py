"""Raw-socket HTTP/1.1 clients for attacks no polite client makes: endless chunked uploads, dribbled headers."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Upload:
    """What a streamed upload achieved: the answer's status (None: no answer) and the body bytes sent."""

    status: int | None
    sent: int
    answer: bytes


def status_of(answer: bytes) -> int | None:
    """The status code of a raw HTTP/1.1 response, or None if there is none."""
    if not answer.startswith(b"HTTP/1."):
        return None
    return int(answer.split(b" ", 2)[1])


def read_answer(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes, resets, or `timeout` passes without a byte."""
    sock.settimeout(timeout)
    answer = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and _complete(answer):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def stream_chunked(
    port: int,
    path: str,
    total: int,
    headers: dict[str, str] | None = None,
    chunk: int = 64 * 1024,
) -> Upload:
    """POSTs `total` bytes as chunked transfer encoding (no Content-Length), stopping as soon as the server
    answers, closes or stops reading for 10 s."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        sock.sendall(head.encode() + b"\r\n")
        frame = b"%x\r\n" % chunk + b"[" * chunk + b"\r\n"
        sent = 0
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += chunk
        else:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
                sock.sendall(b"0\r\n\r\n")
        answer = read_answer(sock)
        return Upload(status_of(answer), sent, answer)
    finally:
        sock.close()


def stream_headers(port: int, total: int, line: int = 64 * 1024) -> Upload:
    """Sends a request line, then header lines of `line` bytes that never end, up to `total` bytes, stopping as
    soon as the server answers or closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sent, i = 0, 0
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"X-Pad-%d: " % i + b"a" * line + b"\r\n")
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent, i = sent + line, i + 1
        answer = read_answer(sock)
        return Upload(status_of(answer), sent, answer)
    finally:
        sock.close()


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size (VmHWM) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


def wait_closed(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), or None if it is still open after `timeout`."""
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return time.monotonic() - start
    except ConnectionResetError:
        return time.monotonic() - start
    except TimeoutError:
        return None
