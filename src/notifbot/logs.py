"""Structured JSON logs on stderr, with every known secret value redacted before it is written."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class OncePer:
    """Says yes at most once per `seconds` (the first time, then the first time after each interval).

    For log lines that can repeat fast (anyone can cause them, or a fault persists): one per interval is enough.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._next = float("-inf")

    def due(self) -> bool:
        """True (and the next interval starts now) if the last yes was at least `seconds` ago, else False."""
        now = self._clock()
        if now < self._next:
            return False
        self._next = now + self._seconds
        return True


class Redactor(logging.Filter):
    """Replaces secret values (tokens, secrets, signed URLs) anywhere in a record with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        """Redacts `secret` from now on too (a token obtained while running, e.g. from a command)."""
        if secret and secret not in self.secrets:
            self.secrets = sorted({*self.secrets, secret}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.scrub(record.getMessage())
            record.args = None
            for key, value in list(record.__dict__.items()):
                if key not in _STANDARD and isinstance(value, str):
                    setattr(record, key, self.scrub(value))
        return True


_OWN = {"ts", "level", "logger", "msg", "exc"}  # the fields JsonFormatter writes itself


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra=` fields."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                # an extra named like the line's own fields (`ts`, `msg`, …) never replaces them
                out[f"extra_{key}" if key in _OWN else key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        line = json.dumps(out, default=str)
        return self.redactor.scrub(line) if self.redactor else line


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: time, level, message, then `key=value` extras."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extras = " ".join(
            f"{k}={v}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
        )
        line = f"{when} {record.levelname.lower():7} {record.getMessage()}" + (
            f"  {extras}" if extras else ""
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return self.redactor.scrub(line) if self.redactor else line


_ACTIVE: list[Redactor] = []


def add_secret(secret: str) -> None:
    """Redacts `secret` in every log line from now on (values read at run time, not known when logging started)."""
    for redactor in _ACTIVE:
        redactor.add(secret)


def setup_logging(secrets: Iterable[str], level: str = "INFO", log_format: str = "auto") -> Redactor:
    """Routes notifbot's and uvicorn's logs through one formatter and the redactor."""
    redactor = Redactor(secrets)
    _ACTIVE[:] = [redactor]
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "auto":
        log_format = "text" if sys.stderr.isatty() else "json"
    handler.setFormatter(TextFormatter(redactor) if log_format == "text" else JsonFormatter(redactor))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO; a Workflows URL is a secret, so only warnings and errors pass
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs three lines at INFO for every poll ("Added job", "Running job", "executed successfully");
    # its warnings (a missed run) and errors still pass, and each poller logs what it found itself
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return redactor
