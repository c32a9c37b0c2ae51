"""The Microsoft Graph mail calls of one mailbox through msgraph-sdk: folders by path, delta pages, MIME, move, categories.

Every failure becomes a MailboxError naming the mailbox and saying what to do (sign in again, grant a permission,
fix a folder name); a 429 carries its Retry-After. An expired delta link raises DeltaExpired: read from the start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.mail_folder import MailFolder
from msgraph.generated.models.message import Message
from msgraph.generated.users.item.mail_folders.item.child_folders.child_folders_request_builder import (
    ChildFoldersRequestBuilder,
)
from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (
    DeltaRequestBuilder,
)
from msgraph.generated.users.item.mail_folders.mail_folders_request_builder import MailFoldersRequestBuilder
from msgraph.generated.users.item.messages.item.move.move_post_request_body import MovePostRequestBody

from notifbot.config.settings import GraphMailSettings
from notifbot.retry_after import retry_wait
from notifbot.sources.email.poll import MailboxError
from notifbot.teams.graph import NO_RETRY, classify

if TYPE_CHECKING:
    from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
    from msgraph.graph_service_client import GraphServiceClient

log = logging.getLogger("notifbot.email")
PAGE_SIZE = 25  # Prefer: odata.maxpagesize — messages per delta page (each then fetched whole)
SELECT = ["id", "internetMessageId", "from", "subject", "receivedDateTime", "categories"]
# well-known folder names Graph takes in place of a folder id (the first level of a folder path)
WELL_KNOWN = frozenset(
    {"inbox", "archive", "drafts", "sentitems", "deleteditems", "junkemail", "outbox", "msgfolderroot"}
)
_SYNC_STATE = ("syncstatenotfound", "syncstateinvalid", "resyncrequired", "errorinvalidsyncstatedata")
_LOGIN = "run `notifbot teams login` again (or refresh GRAPH_ACCESS_TOKEN)"


class DeltaExpired(MailboxError):
    """The saved delta link is no longer valid (HTTP 410, a sync-state error): the folder is read from the start."""


@dataclass(frozen=True)
class DeltaItem:
    """One entry of a delta page: a message in the folder, or one that left it (`removed`)."""

    id: str
    removed: bool
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeltaPage:
    """One page: its entries, and either the next page's link or the link for the next round."""

    items: list[DeltaItem]
    next_link: str | None
    delta_link: str | None


def _config(query: Any = None, *, page_size: int | None = None) -> RequestConfiguration[Any]:
    config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query, options=[NO_RETRY])
    if page_size is not None:
        config.headers.add("Prefer", f"odata.maxpagesize={page_size}")
    return config


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class GraphMailbox:
    """One mailbox (`graph.mailbox`, a user principal name or address) as the signed-in account sees it."""

    def __init__(self, client: GraphServiceClient, name: str, graph: GraphMailSettings) -> None:
        self.client = client
        self.name = name
        self.address = graph.mailbox

    def _user(self) -> UserItemRequestBuilder:
        return self.client.users.by_user_id(self.address)

    def error(self, exc: BaseException, what: str) -> MailboxError:
        """The MailboxError for a failed call: names the mailbox, says what to do; never a token."""
        if isinstance(exc, MailboxError):
            return exc
        where = f"mailbox {self.name!r} ({self.address})"
        if not isinstance(exc, APIError):
            return MailboxError(f"{where}: {classify(exc, what)}")
        status = exc.response_status_code or 0
        error = getattr(exc, "error", None)
        code = str(getattr(error, "code", None) or "no code")
        if status == 410 or code.lower() in _SYNC_STATE:
            return DeltaExpired(f"{where}: the saved delta link expired when {what} (HTTP {status}, {code})")
        if status == 429:
            wait = retry_wait(exc.response_headers)
            return MailboxError(
                f"{where}: Microsoft Graph throttled {what} (HTTP 429, Retry-After {wait:g} s)",
                retry_after=wait,
            )
        if status >= 500 or status in (0, 408):
            return MailboxError(f"{where}: Microsoft Graph answered {what} with HTTP {status} ({code})")
        if status == 401:
            return MailboxError(
                f"{where}: Microsoft Graph rejected the sign-in for {what} (HTTP 401, {code}): {_LOGIN}"
            )
        if status == 403:
            return MailboxError(
                f"{where}: Microsoft Graph refused {what} (HTTP 403, {code}): the signed-in account needs the "
                "delegated permission Mail.ReadWrite.Shared (consent, then run `notifbot teams login` again) and "
                f"access to the mailbox {self.address} (full access, or permissions on the folders)",
                transient=False,
            )
        if status == 404:
            return MailboxError(
                f"{where}: Microsoft Graph found nothing for {what} (HTTP 404, {code}): check graph.mailbox and "
                "graph.folder, and that the signed-in account can open the mailbox",
                transient=False,
            )
        detail = (getattr(error, "message", None) or "")[:300]
        return MailboxError(f"{where}: Microsoft Graph rejected {what} (HTTP {status}, {code}: {detail})")

    async def folder_id(self, path: str, *, create: bool = False) -> str:
        """The id of the folder at `path` (a well-known name, or display names from the top separated by `/`);
        missing levels are created when `create`, else a MailboxError says which level does not exist."""
        parts = [p for p in path.strip("/").split("/") if p]
        parent: str | None = None
        for depth, part in enumerate(parts):
            so_far = "/".join(parts[: depth + 1])
            try:
                found = await self._lookup(parent, part, well_known=depth == 0)
                if found is None and create:
                    found = await self._create(parent, part)
            except Exception as exc:
                raise self.error(exc, f"looking up the folder {so_far!r}") from None
            if found is None:
                raise MailboxError(
                    f"mailbox {self.name!r} ({self.address}): the folder {so_far!r} does not exist: check "
                    "graph.folder (a well-known name like Inbox, or display names separated by /)",
                    transient=False,
                )
            parent = found
        if parent is None:
            raise MailboxError(f"mailbox {self.name!r}: the folder path {path!r} is empty", transient=False)
        return parent

    async def _lookup(self, parent: str | None, name: str, *, well_known: bool) -> str | None:
        folders = self._user().mail_folders
        if parent is None and well_known and name.lower() in WELL_KNOWN:
            folder = await folders.by_mail_folder_id(name.lower()).get(request_configuration=_config())
            return str(folder.id) if folder is not None and folder.id else None
        page: Any
        if parent is None:
            query: Any = MailFoldersRequestBuilder.MailFoldersRequestBuilderGetQueryParameters(
                filter=f"displayName eq {_quoted(name)}", select=["id", "displayName"]
            )
            page = await folders.get(request_configuration=_config(query))
        else:
            query = ChildFoldersRequestBuilder.ChildFoldersRequestBuilderGetQueryParameters(
                filter=f"displayName eq {_quoted(name)}", select=["id", "displayName"]
            )
            page = await folders.by_mail_folder_id(parent).child_folders.get(
                request_configuration=_config(query)
            )
        for folder in (page.value if page is not None else None) or []:
            if folder.id and (folder.display_name or "").casefold() == name.casefold():
                return str(folder.id)
        return None

    async def _create(self, parent: str | None, name: str) -> str | None:
        folders = self._user().mail_folders
        body = MailFolder(display_name=name)
        if parent is None:
            created = await folders.post(body, request_configuration=_config())
        else:
            created = await folders.by_mail_folder_id(parent).child_folders.post(
                body, request_configuration=_config()
            )
        return str(created.id) if created is not None and created.id else None

    async def delta(self, folder_id: str, link: str | None, folder: str) -> DeltaPage:
        """One page of the folder's message delta: from `link` (a next or delta link) or from the start."""
        builder = self._user().mail_folders.by_mail_folder_id(folder_id).messages.delta
        query = None
        if link:
            builder = builder.with_url(link)  # carries $select and the state token
        else:
            query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(select=SELECT)
        try:
            page = await builder.get(request_configuration=_config(query, page_size=PAGE_SIZE))
        except Exception as exc:
            error = self.error(exc, f"reading the changes in folder {folder!r}")
            if (
                link and isinstance(exc, APIError) and exc.response_status_code == 404
            ):  # the folder was recreated
                error = DeltaExpired(f"{error} (the saved link names a folder that is gone)")
            raise error from None
        if page is None:
            raise MailboxError(
                f"mailbox {self.name!r}: Microsoft Graph returned no delta page for {folder!r}"
            )
        return DeltaPage(
            [_item(m) for m in page.value or [] if m.id],
            page.odata_next_link,
            page.odata_delta_link,
        )

    async def content(self, message_id: str) -> bytes | None:
        """The message's MIME (`$value`); None when it is gone (moved or deleted since the page was read)."""
        try:
            raw = (
                await self._user()
                .messages.by_message_id(message_id)
                .content.get(request_configuration=_config())
            )
        except APIError as exc:
            if exc.response_status_code == 404:
                return None
            raise self.error(exc, f"reading message {message_id}") from None
        except Exception as exc:
            raise self.error(exc, f"reading message {message_id}") from None
        return raw or b""

    async def move(self, message_id: str, folder_id: str) -> None:
        """Moves the message into the folder (it gets a new id there); a message gone already is left alone."""
        body = MovePostRequestBody(destination_id=folder_id)
        try:
            await (
                self._user()
                .messages.by_message_id(message_id)
                .move.post(body, request_configuration=_config())
            )
        except APIError as exc:
            if exc.response_status_code != 404:
                raise self.error(exc, f"moving message {message_id} to the processed folder") from None
            log.warning(
                "a read message was gone when moving it (moved or deleted by someone else)",
                extra={"mailbox": self.name, "message_id": message_id},
            )
        except Exception as exc:
            raise self.error(exc, f"moving message {message_id} to the processed folder") from None

    async def categorize(self, message_id: str, categories: list[str]) -> None:
        """Sets the message's categories (those it had plus notifbot's)."""
        try:
            await (
                self._user()
                .messages.by_message_id(message_id)
                .patch(Message(categories=categories), request_configuration=_config())
            )
        except APIError as exc:
            if exc.response_status_code != 404:
                raise self.error(exc, f"adding a category to message {message_id}") from None
        except Exception as exc:
            raise self.error(exc, f"adding a category to message {message_id}") from None


def _item(m: Message) -> DeltaItem:
    removed = "@removed" in (m.additional_data or {})
    return DeltaItem(str(m.id), removed, tuple(m.categories or ()))
