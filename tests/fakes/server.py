"""A loopback HTTP server on port 0 in a daemon thread: the lifecycle every fake service (and LiveBot) shares."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn


class ThreadedServer:
    """Serves `self._app` on `self.host`:`self.port` (0 = any free port) until `stop()`."""

    _app: Any
    host: str
    port: int
    thread_name = "fake-server"
    timeout = 10.0  # seconds to bind on start and to wind down on stop
    uvicorn_options: dict[str, Any] = {}  # noqa: RUF012 - read-only defaults, overridden per class

    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _failure: BaseException | None = None

    def _uvicorn(self, app: Any) -> uvicorn.Server:
        """A uvicorn server for `app` on this host and port with the class's options."""
        options: dict[str, Any] = {"log_level": "warning", **self.uvicorn_options}
        return uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, lifespan="off", **options))

    def _serve_in_thread(self) -> None:
        """The thread's body: serves until `stop()`; a subclass that sets up around the server overrides it."""
        self._server = self._uvicorn(self._app)
        self._server.run()

    def _run(self) -> None:
        try:
            self._serve_in_thread()
        except BaseException as exc:  # surfaced by start() instead of dying silently in the thread
            self._failure = exc

    def start(self) -> Self:
        """Serves in a daemon thread and returns once the port is bound."""
        self._failure = None
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.timeout
        while self._server is None or not self._server.started:
            if self._failure is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.thread_name} could not listen on {self.host}:{self.port}: {self._failure!r}"
                )
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stops serving and joins the thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=self.timeout)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`."""
        return f"http://{self.host}:{self.port}"
