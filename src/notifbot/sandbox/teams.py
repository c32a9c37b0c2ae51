"""A Power Automate Workflows webhook trigger per sandbox channel: checks `sig`, size and shape, records the card."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from notifbot.render.card import CARD_CONTENT_TYPE
from notifbot.sandbox.chat import Chat

MAX_BYTES = 28 * 1024  # what a Workflows webhook post may carry
WORKFLOW_PATH = "/teams/workflow/"


def _refuse(status: int, message: str) -> Response:
    """The shape of a Workflows trigger's error body."""
    return JSONResponse({"error": {"code": str(status), "message": message}}, status_code=status)


def card_of(data: Any) -> dict[str, Any] | None:
    """The Adaptive Card of a Workflows post body, or None when the body is not the shape a flow accepts."""
    if not isinstance(data, dict) or data.get("type") != "message":
        return None
    attachments = data.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1 or not isinstance(attachments[0], dict):
        return None
    content = attachments[0].get("content")  # an object here (a JSON string in Graph)
    if attachments[0].get("contentType") != CARD_CONTENT_TYPE or not isinstance(content, dict):
        return None
    return content


class TeamsWorkflows:
    """The trigger URLs (one secret `sig` for all channels) and the route that records their posts in `chat`."""

    def __init__(self, chat: Chat, sig: str | None = None, base_url: str = "") -> None:
        self.chat = chat
        self.sig = sig or secrets.token_urlsafe(24)
        self.base_url = base_url  # `http://127.0.0.1:PORT`, set once the server is bound

    def url(self, channel: str) -> str:
        """The secret trigger URL a `teams_workflow` destination posts `channel`'s cards to."""
        return f"{self.base_url}{WORKFLOW_PATH}{quote(channel, safe='')}?sig={self.sig}"

    def routes(self) -> list[Route]:
        return [Route(WORKFLOW_PATH + "{channel}", self._invoke, methods=["POST"])]

    async def _invoke(self, request: Request) -> Response:
        sig = request.query_params.get("sig", "")
        if not hmac.compare_digest(sig.encode(), self.sig.encode()):
            return _refuse(401, "The workflow trigger signature is missing or wrong.")
        body = await request.body()
        if len(body) > MAX_BYTES:
            return _refuse(413, f"The request body is larger than {MAX_BYTES} bytes.")
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            return _refuse(415, "The request body must be JSON.")
        try:
            card = card_of(json.loads(body))
        except ValueError:
            card = None
        if card is None:
            return _refuse(400, "The body must be a message with one Adaptive Card attachment.")
        self.chat.card(request.path_params["channel"], card)
        return Response(status_code=202)
