"""The console bench's HTTP part (docs/design/first-hour.md §6.3): the list's requests through the real server.

`python -m notifbot serve` (a subprocess, as `bench/ingest.py` starts it; not pinned: the client sends one request
at a time and waits, so the two never compete, and an unpinned server can use whichever core is free on a shared
machine) on the filled store with `server.console: true`; the client signs in with the admin token as a browser
does (same-origin form, session cookie) and GETs `/ui/notifications?…` over one keep-alive connection: each timing
is one whole request, the store query and the template render included. None of the server's own work runs
meanwhile: retention is off and every open outbox row is parked far in the future (`park`), so no delivery is due.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
from bench.ingest import Server, notifbot_server

PARKED_AT = 4_000_000_000.0  # 2096: open rows are not due while the bench runs
_ROW = re.compile(r'<th scope="row"><a href="/ui/notifications/\d+">')


class ListRequest(Protocol):
    """What the HTTP part needs of bench/console.py's `Request`."""

    @property
    def label(self) -> str: ...


def park(conn: Any) -> None:
    """Moves every open outbox row's next attempt far ahead, so the server under test has no delivery to make."""
    conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status IN ('pending', 'dead') AND status = 'pending'",
        (PARKED_AT,),
    )


def config(backend: str, where: str) -> dict[str, Any]:
    """The server's config: the console on, the store given, no pruning (the embedded default's console
    destination gets no row: every open row is parked)."""
    storage: dict[str, Any] = {"path": where} if backend == "sqlite" else {"url": where}
    storage["retention"] = {"enabled": False}
    return {"storage": storage, "server": {"console": True}}


@contextmanager
def console_server(backend: str, where: str) -> Iterator[httpx.Client]:
    """The real server on `where`'s store (its config and logs in a temporary folder) and a client signed in to
    its console."""
    token = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="notifbot-console-http-") as folder:
        server: Server = notifbot_server(
            f"console-{backend}",
            Path(folder),
            config(backend, where),
            cpu=None,
            env={"NOTIFBOT_CONSOLE_TOKEN": token},
        )
        with server, httpx.Client(base_url=server.url, timeout=30) as client:
            signed = client.post("/ui/login", data={"token": token}, headers={"Origin": server.url})
            if signed.status_code != 303 or "notifbot_console" not in client.cookies:
                raise RuntimeError(f"console sign-in failed: {signed.status_code} {signed.text[:200]}")
            yield client


def get(client: httpx.Client, path: str) -> str:
    """One page of the console; anything but 200 stops the bench."""
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response.text


def http_timings(
    client: httpx.Client, paths: Sequence[tuple[ListRequest, str]], runs: int
) -> dict[str, dict[str, Any]]:
    """Each request GET `runs` times, the requests taken in turn within each run (a burst of load on the machine
    falls on all alike): per request, the milliseconds of each whole request (`times`), the rows its page showed,
    whether its search stopped at the window, and the page's size."""
    pages = {r.label: get(client, path) for r, path in paths}  # warm-up, and what each page shows
    out: dict[str, dict[str, Any]] = {
        r.label: {
            "times": [],
            "rows": len(_ROW.findall(pages[r.label])),
            "stopped": "Searched back to" in pages[r.label],
            "bytes": len(pages[r.label].encode("utf-8")),
        }
        for r, _ in paths
    }
    for _ in range(runs):
        for r, path in paths:
            started = time.perf_counter()
            get(client, path)
            out[r.label]["times"].append((time.perf_counter() - started) * 1000)
    return out
