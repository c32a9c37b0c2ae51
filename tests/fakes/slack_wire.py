"""What the fake Slack says on the wire: identities, scopes, stored records and the shapes of its answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from starlette.responses import HTMLResponse, JSONResponse, Response

TEAM = {"url": "https://notifbot-test.slack.com/", "team": "Notifbot Test", "team_id": "T0FAKE0001"}
BOT = {"user": "notifbot", "user_id": "U0FAKEBOT1", "bot_id": "B0FAKEBOT1"}
HUMAN = "U0FAKEHUMAN"
# What an app installed from manifests/ holds; a test removes one to see the missing_scope answer.
SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "usergroups:read",
        "users:read",
        "channels:history",
        "groups:history",
    }
)
LostAnswer = Literal["late", "drop", "500"]
LOST_KINDS: tuple[LostAnswer, ...] = ("late", "drop", "500")
RESPONSE_URL_USES = 5  # a response_url accepts 5 posts (facts/slack-teams.md)
_HTML_ERROR = (
    "<html><head><title>Server Error</title></head><body><h1>Slack is having trouble</h1></body></html>"
)


class _Record:
    """Field access by attribute (`m.text`) or by key (`m["text"]`), like the JSON Slack sends."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Message(_Record):
    """A message the fake accepted (its current version after any chat.update); `arrived` is time.time()."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    metadata: dict[str, Any] | None
    arrived: float
    user: str = BOT["user_id"]
    attachments: list[Any] | None = None  # legacy attachments, as incoming webhooks (Alertmanager) send them
    thread_ts: str | None = None  # a reply in the thread of this parent message (not shown by history)


@dataclass(frozen=True)
class Update(_Record):
    """One accepted chat.update: the new text/blocks of message `ts` in `channel`."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None
    arrived: float


def wire(m: Message, metadata: bool = True) -> dict[str, Any]:
    """A message as the Web API shows it; history shows `metadata` only with include_all_metadata."""
    wire: dict[str, Any] = {"type": "message", "text": m.text, "user": m.user, "ts": m.ts}
    if m.user == BOT["user_id"]:
        wire["bot_id"] = BOT["bot_id"]
    if m.blocks is not None:
        wire["blocks"] = m.blocks
    if m.attachments is not None:
        wire["attachments"] = m.attachments
    if m.metadata is not None and metadata:
        wire["metadata"] = m.metadata
    if m.thread_ts is not None:
        wire["thread_ts"] = m.thread_ts
    return wire


def throttled(retry_after: int | str) -> Response:
    return JSONResponse(
        {"ok": False, "error": "ratelimited"}, status_code=429, headers={"Retry-After": str(retry_after)}
    )


def html_error(status: int) -> Response:
    return HTMLResponse(_HTML_ERROR, status_code=status)
