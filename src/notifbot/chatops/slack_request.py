"""Parses and shape-checks a signed Slack request body before Bolt sees it (pure; no I/O).

Bolt assumes Slack's shapes: a `payload` that is not an object, a `user` that is a number or an empty `actions`
list make its context extraction or listener matching raise, which Slack sees as a 500 and retries. We parse the
body once, refuse what Slack could not have sent with a 400 that says what is wrong, and hand Bolt the parsed
object, so Bolt never parses the raw body itself (its parser also mistakes any form body containing the text
`payload`, such as `/marketo mute payload_x`, for a button click).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from notifbot.errors import InputError

MALFORMED = "malformed Slack request"
# Bolt reads `id` from these, or takes a string as the id itself (Slack sends objects, the Events API strings)
_IDS = ("enterprise", "team", "user", "channel")
# Bolt looks inside these for the same keys again (null is fine: Slack sends `"enterprise": null` and the like)
_OBJECTS = ("container", "message", "previous_message", "view", "item", "assistant_thread", "function_data")
# the payloads Bolt reads a modal from (`"x" in view` unguarded): their `view` must be an object, not null
_VIEW_TYPES = ("view_submission", "view_closed")
# the top-level strings of a slash command that the command core reads, and the reply URL Bolt posts to
_STRINGS = ("command", "text", "user_id", "user_name", "channel_id", "response_url")


def parse_slack_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """The request as an object, or InputError saying why Slack could not have sent it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8") from None
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        body = _json_object(text, "the JSON body")
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        body = _json_object(fields["payload"], "`payload`") if "payload" in fields else dict(fields)
    for key in _STRINGS:
        if key in body and not isinstance(body[key], str):
            raise _bad(key, "a string", body[key])
    _check(body, "")
    if body.get("type") == "block_actions":
        _check_block_actions(body)
    if body.get("type") in _VIEW_TYPES and not isinstance(body.get("view"), dict):
        raise _bad("view", f"an object in {body['type']}", body.get("view"))
    if (
        "view" in body and body["view"] is None
    ):  # null means absent, but Bolt's unhandled-request log reads it
        del body["view"]
    return body


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise InputError(f"{what} is not JSON (or nested too deeply)") from None
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a JSON object, not {_kind(value)}")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} holds text that is not valid Unicode (a lone surrogate)") from None
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _bad(loc: str, expected: str, value: Any) -> InputError:
    return InputError(f"{MALFORMED}: {loc} must be {expected}, not {_kind(value)}")


def _check(body: dict[str, Any], at: str) -> None:
    """Refuses the shapes that make Bolt's context extraction raise, here and in the objects it looks into."""
    for key in _IDS:
        value = body.get(key)
        if not isinstance(value, str | dict | None):
            raise _bad(at + key, "an object or a string", value)
        if isinstance(value, dict) and not isinstance(value.get("id", ""), str | None):
            raise _bad(f"{at}{key}.id", "a string", value["id"])
    for key in _OBJECTS:
        value = body.get(key)
        if not isinstance(value, dict | None):
            raise _bad(at + key, "an object", value)
        if isinstance(value, dict):
            _check(value, f"{at}{key}.")
    if "event" in body:  # Bolt reads `event` with `.get` unguarded
        if not isinstance(body["event"], dict):
            raise _bad(at + "event", "an object", body["event"])
        _check(body["event"], f"{at}event.")
    lists = {
        "authorizations": body.get("authorizations") or [],
        "response_urls": body.get("response_urls", []),
    }
    for key, value in lists.items():
        if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            raise _bad(at + key, "a list of objects", value)
        for i, item in enumerate(value):
            _check(item, f"{at}{key}[{i}].")
    if "actions" in body:
        actions = body["actions"]
        if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
            raise _bad(at + "actions", "a non-empty list of objects", actions)


def _check_block_actions(body: dict[str, Any]) -> None:
    """A button click: who clicked (`user.id`) and which button (`actions[].action_id`) are required."""
    if "actions" not in body:
        raise InputError(f"{MALFORMED}: actions is required in block_actions")
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise _bad("user", "an object with a string id", user)
    if "channel" in body and not isinstance(body["channel"], dict):
        raise _bad("channel", "an object", body["channel"])
    for i, act in enumerate(body["actions"]):
        if not isinstance(act.get("action_id"), str):
            raise _bad(f"actions[{i}].action_id", "a string", act.get("action_id"))
        if "value" in act and not isinstance(act["value"], str):
            raise _bad(f"actions[{i}].value", "a string", act["value"])
    for key, fields in (("container", ("channel_id", "message_ts")), ("message", ("ts",))):
        value = body.get(key) or {}
        for field in fields:
            if field in value and not isinstance(value[field], str):
                raise _bad(f"{key}.{field}", "a string", value[field])


def id_of(value: Any) -> str:
    """`x.id` of a checked `user`/`channel` object, or the string itself ("" when absent)."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return value if isinstance(value, str) else ""
