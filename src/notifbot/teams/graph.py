"""Microsoft Graph through msgraph-sdk: channel messages, replies, edits and subscriptions, errors as DeliveryErrors.

Kiota's RetryHandler is switched off for every request: it would retry a POST after a 503 whose message Teams
had in fact posted. The outbox (and the subscription manager) decide when to try again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.chat_message import ChatMessage
from msgraph.generated.models.chat_message_attachment import ChatMessageAttachment
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.subscription import Subscription
from msgraph.generated.teams.item.channels.item.messages.item.replies.replies_request_builder import (
    RepliesRequestBuilder,
)
from msgraph.generated.teams.item.channels.item.messages.messages_request_builder import (
    MessagesRequestBuilder,
)
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as graph_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory
from msgraph_core.authentication import AzureIdentityAuthenticationProvider

from notifbot.errors import DeliveryError, PermanentDeliveryError, RateLimitedError, TransientDeliveryError
from notifbot.render.card import CARD_CONTENT_TYPE
from notifbot.retry_after import retry_wait
from notifbot.teams.auth import DEFAULT_SCOPE

NO_RETRY = RetryHandlerOption(delay=0, max_retries=0, should_retry=False)
_NETWORK = re.compile(r"(?i)failed to resolve|connection|timed? ?out|temporarily unavailable")
_LOGIN = "run `notifbot teams login` again (or refresh GRAPH_ACCESS_TOKEN)"


def build_client(
    credential: Any, graph_url: str, *, timeout: float = 15.0
) -> tuple[GraphServiceClient, httpx.AsyncClient]:
    """A GraphServiceClient on `graph_url` (national cloud or a test server) with kiota's retries disabled."""
    host = urlsplit(graph_url).hostname or ""
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[DEFAULT_SCOPE], allowed_hosts=[host])
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(base_url=graph_url, timeout=timeout, follow_redirects=False),
        options={**graph_options, RetryHandlerOption.get_key(): NO_RETRY},  # keeps the /me rewrite
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = graph_url
    return GraphServiceClient(request_adapter=adapter), http


def card_message(card: dict[str, Any], attachment_id: str) -> ChatMessage:
    """A channel message carrying one Adaptive Card (content as a JSON string, referenced from the HTML body)."""
    return ChatMessage(
        body=ItemBody(content_type=BodyType.Html, content=f'<attachment id="{attachment_id}"></attachment>'),
        attachments=[
            ChatMessageAttachment(
                id=attachment_id,
                content_type=CARD_CONTENT_TYPE,
                content=json.dumps(card, ensure_ascii=False, separators=(",", ":")),
            )
        ],
    )


def _api_error(exc: APIError, what: str) -> DeliveryError:
    status = exc.response_status_code or 0
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or "no code"
    detail = (getattr(error, "message", None) or "")[:300]
    if status == 429:
        wait = retry_wait(exc.response_headers)
        return RateLimitedError(f"Microsoft Graph throttled {what}: retry after {wait:g} s", retry_after=wait)
    if status >= 500 or status == 408 or status == 0:
        return TransientDeliveryError(
            f"Microsoft Graph answered {what} with HTTP {status} ({code}); will retry"
        )
    if status == 401:
        return PermanentDeliveryError(
            f"Microsoft Graph rejected the sign-in for {what} (HTTP 401, {code}): {_LOGIN}"
        )
    if status == 403:
        return PermanentDeliveryError(
            f"Microsoft Graph refused {what} (HTTP 403, {code}): the service account needs the delegated permissions "
            "ChannelMessage.Send (and ChannelMessage.ReadWrite, ChannelMessage.Read.All) and must be a member of "
            "the team and channel"
        )
    if status == 404:
        return PermanentDeliveryError(
            f"Microsoft Graph found nothing for {what} (HTTP 404, {code}): check team_id and channel_id, and that "
            "the service account is a member of the team"
        )
    return PermanentDeliveryError(f"Microsoft Graph rejected {what} (HTTP {status}, {code}: {detail})")


def classify(exc: BaseException, what: str) -> DeliveryError:
    """Maps an msgraph/kiota/httpx/azure-identity failure to Transient (retry) or Permanent (a human acts)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, APIError):
        return _api_error(exc, what)
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return TransientDeliveryError(f"Microsoft Graph did not answer {what} in time; will retry")
    if isinstance(exc, httpx.TransportError | OSError):
        return TransientDeliveryError(
            f"cannot reach Microsoft Graph for {what}: {type(exc).__name__}; will retry"
        )
    name = type(exc).__name__
    if name == "ClientAuthenticationError" and _NETWORK.search(str(exc)):
        return TransientDeliveryError(
            f"cannot reach Microsoft Entra ID to refresh the sign-in for {what}; will retry"
        )
    if name in ("ClientAuthenticationError", "CredentialUnavailableError", "AuthenticationRequiredError"):
        return PermanentDeliveryError(f"no valid Microsoft Graph sign-in for {what} ({name}): {_LOGIN}")
    return PermanentDeliveryError(f"unexpected error calling Microsoft Graph for {what}: {name}: {exc}")


@dataclass(frozen=True)
class GraphMessage:
    """The parts of a channel message notifbot reads."""

    id: str
    reply_to_id: str | None
    text: str
    content_type: str
    user_id: str | None
    user_name: str | None
    attachment_ids: tuple[str, ...]


def _message(m: ChatMessage) -> GraphMessage:
    user = m.from_.user if m.from_ is not None else None
    body = m.body
    return GraphMessage(
        id=str(m.id or ""),
        reply_to_id=m.reply_to_id,
        text=(body.content or "") if body is not None else "",
        content_type=str(body.content_type.value if body and body.content_type else "text"),
        user_id=user.id if user is not None else None,
        user_name=user.display_name if user is not None else None,
        attachment_ids=tuple(str(a.id) for a in (m.attachments or []) if a.id),
    )


def _options() -> RequestConfiguration[Any]:
    return RequestConfiguration(options=[NO_RETRY])


class GraphApi:
    """The Graph calls notifbot makes; each raises a DeliveryError (never a token) on failure."""

    def __init__(self, credential: Any, graph_url: str, *, timeout: float = 15.0) -> None:
        self.client, self._http = build_client(credential, graph_url, timeout=timeout)
        self._credential = credential
        self._closed = False

    def _messages(self, team: str, channel: str) -> MessagesRequestBuilder:
        return self.client.teams.by_team_id(team).channels.by_channel_id(channel).messages

    async def post_card(
        self,
        team: str,
        channel: str,
        card: dict[str, Any],
        attachment_id: str,
        *,
        reply_to: str | None = None,
    ) -> str:
        """Posts a card as a new message (or as a reply in the thread `reply_to`); returns the message id."""
        what = f"posting to channel {channel}" + (f" (reply to {reply_to})" if reply_to else "")
        body = card_message(card, attachment_id)
        try:
            if reply_to:
                item = self._messages(team, channel).by_chat_message_id(reply_to)
                created = await item.replies.post(body, request_configuration=_options())
            else:
                created = await self._messages(team, channel).post(body, request_configuration=_options())
        except Exception as exc:
            raise classify(exc, what) from None
        if created is None or not created.id:
            raise TransientDeliveryError(f"Microsoft Graph returned no message id when {what}; will retry")
        return str(created.id)

    async def update_card(
        self, team: str, channel: str, message_id: str, card: dict[str, Any], attachment_id: str
    ) -> None:
        """Replaces the card of message `message_id` in place (PATCH)."""
        try:
            item = self._messages(team, channel).by_chat_message_id(message_id)
            await item.patch(card_message(card, attachment_id), request_configuration=_options())
        except Exception as exc:
            raise classify(exc, f"updating message {message_id} in channel {channel}") from None

    async def find_by_attachment(
        self, team: str, channel: str, attachment_id: str, *, top: int = 20, reply_to: str | None = None
    ) -> str | None:
        """The id of a recent message (or reply in `reply_to`'s thread) carrying `attachment_id`: a post that
        succeeded although we saw an error."""
        page: Any
        try:
            if reply_to is None:
                query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(top=top)
                page = await self._messages(team, channel).get(
                    request_configuration=RequestConfiguration(query_parameters=query, options=[NO_RETRY])
                )
            else:
                replies = self._messages(team, channel).by_chat_message_id(reply_to).replies
                reply_query = RepliesRequestBuilder.RepliesRequestBuilderGetQueryParameters(top=top)
                page = await replies.get(
                    request_configuration=RequestConfiguration(
                        query_parameters=reply_query, options=[NO_RETRY]
                    )
                )
        except Exception as exc:
            raise classify(exc, f"listing recent messages of channel {channel}") from None
        for m in (page.value if page is not None else None) or []:
            if any(a.id == attachment_id for a in m.attachments or []):
                return str(m.id)
        return None

    async def get_message(
        self, team: str, channel: str, message_id: str, reply_id: str | None = None
    ) -> GraphMessage:
        """One message, or one reply in its thread."""
        try:
            item = self._messages(team, channel).by_chat_message_id(message_id)
            if reply_id:
                found = await item.replies.by_chat_message_id1(reply_id).get(request_configuration=_options())
            else:
                found = await item.get(request_configuration=_options())
        except Exception as exc:
            raise classify(exc, f"reading message {reply_id or message_id} in channel {channel}") from None
        if found is None:
            raise PermanentDeliveryError(f"message {reply_id or message_id} not found in channel {channel}")
        return _message(found)

    async def me(self) -> tuple[str, str]:
        """The signed-in service account's (id, display name)."""
        try:
            user = await self.client.me.get(request_configuration=_options())
        except Exception as exc:
            raise classify(exc, "reading the signed-in user (/me)") from None
        if user is None or not user.id:
            raise PermanentDeliveryError("Microsoft Graph returned no signed-in user for /me")
        return str(user.id), str(user.display_name or "")

    async def create_subscription(
        self, resource: str, notification_url: str, client_state: str, expires: datetime
    ) -> tuple[str, datetime]:
        """Subscribes to new messages of `resource`; returns (subscription id, expiry)."""
        body = Subscription(
            change_type="created",
            notification_url=notification_url,
            resource=resource,
            expiration_date_time=expires,
            client_state=client_state,
        )
        try:
            created = await self.client.subscriptions.post(body, request_configuration=_options())
        except Exception as exc:
            raise classify(exc, f"subscribing to {resource}") from None
        if created is None or not created.id:
            raise TransientDeliveryError(f"Microsoft Graph returned no subscription id for {resource}")
        return str(created.id), created.expiration_date_time or expires

    async def renew_subscription(self, subscription_id: str, expires: datetime) -> datetime:
        """Moves a subscription's expiry out; returns the new expiry."""
        try:
            renewed = await self.client.subscriptions.by_subscription_id(subscription_id).patch(
                Subscription(expiration_date_time=expires), request_configuration=_options()
            )
        except Exception as exc:
            raise classify(exc, f"renewing subscription {subscription_id}") from None
        return (renewed.expiration_date_time if renewed is not None else None) or expires

    async def __aenter__(self) -> GraphApi:
        """The Graph client as a component: nothing to start, closed on exit."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP client and the credential (once; the sender and the command worker share them)."""
        if self._closed:
            return
        self._closed = True
        await self._http.aclose()
        close = getattr(self._credential, "close", None)
        if close is not None:
            result = close()
            if hasattr(result, "__await__"):
                await result
