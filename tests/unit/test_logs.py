"""Logs are JSON lines and never contain a secret, whatever path it took into the record."""

from __future__ import annotations

import io
import json
import logging

from notifbot.logs import JsonFormatter, OncePer, Redactor, TextFormatter

SECRET = "xoxb-1234-very-secret"


def capture(formatter_cls: type[logging.Formatter]) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    redactor = Redactor([SECRET, ""])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_cls(redactor))  # type: ignore[call-arg]
    handler.addFilter(redactor)
    logger = logging.getLogger(f"test-{formatter_cls.__name__}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secrets_are_redacted_in_message_args_extras_and_tracebacks() -> None:
    logger, stream = capture(JsonFormatter)
    logger.warning("token %s", SECRET, extra={"header": f"Bearer {SECRET}"})
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        logger.exception("boom")
    out = stream.getvalue()
    assert SECRET not in out
    first = json.loads(out.splitlines()[0])
    assert first["msg"] == "token ***" and first["header"] == "Bearer ***" and first["level"] == "warning"


def test_text_format_is_readable_and_redacted() -> None:
    logger, stream = capture(TextFormatter)
    logger.info("delivered", extra={"destination": "ops", "token": SECRET})
    line = stream.getvalue()
    assert "delivered" in line and "destination=ops" in line and SECRET not in line


def test_once_per_says_yes_once_per_interval() -> None:
    now = [100.0]
    gate = OncePer(60.0, lambda: now[0])
    answers = []
    for t in (100.0, 100.0, 159.9, 160.0, 160.0, 500.0):
        now[0] = t
        answers.append(gate.due())
    assert answers == [True, False, False, True, False, True]


def test_an_extra_named_like_a_line_field_never_replaces_it() -> None:
    logger, stream = capture(JsonFormatter)
    logger.info("acknowledged", extra={"ts": "1700000000.000100", "level": "x", "channel": "C1"})
    line = json.loads(stream.getvalue())
    assert line["ts"].startswith("20") and line["ts"] != "1700000000.000100" and line["level"] == "info"
    assert line["extra_ts"] == "1700000000.000100" and line["extra_level"] == "x" and line["channel"] == "C1"
