"""Microsoft Graph mail on the fake Graph: mailboxes, folders, MIME, the message delta, move and categories.

Faithful to what notifbot relies on (Microsoft Graph v1.0 docs): well-known folder names in place of ids, child
folders filtered by displayName, `GET …/mailFolders/{id}/messages/delta` (also `delta()`) paged by
`Prefer: odata.maxpagesize` with `@odata.nextLink` ($skiptoken) and a final `@odata.deltaLink` ($deltatoken) carrying
the first request's `$select`, changes since a delta token (a moved message is `@removed` from its folder and a new
message, with a new id, in the target), `$value` as MIME, `move` answering 201 with the moved copy, PATCH categories.
Injected: `fail_next` (a status for the next matching request, e.g. 429 with Retry-After), `denied` mailboxes (403),
and `expire_delta_tokens()` (410 SyncStateNotFound for every token issued so far).
"""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from tests.fakes.graph import FakeGraph

DEFAULT_PAGE_SIZE = 10
_FILTER = re.compile(r"^displayName eq '((?:[^']|'')*)'$")
_KEYED = re.compile(r"^(\w+)\('([^']*)'\)$")  # mailFolders('id'), the form Graph's own links use


@dataclass
class MailFailure:
    """An injected answer for the next request whose "METHOD path" matches `match` (a regex)."""

    status: int
    match: str = ""
    retry_after: str | None = None
    code: str = "InjectedFailure"


@dataclass
class Folder:
    id: str
    name: str
    parent: str | None
    well_known: str | None = None


@dataclass
class Mail:
    id: str
    folder: str
    mime: bytes
    categories: list[str] = field(default_factory=list)
    received: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self, select: list[str] | None) -> dict[str, Any]:
        msg = email.message_from_bytes(self.mime, policy=email.policy.default)
        sender = msg.get("From")
        addresses = getattr(sender, "addresses", ())
        full = {
            "@odata.type": "#microsoft.graph.message",
            "id": self.id,
            "internetMessageId": str(msg.get("Message-ID") or ""),
            "subject": str(msg.get("Subject") or ""),
            "from": {
                "emailAddress": {
                    "name": addresses[0].display_name if addresses else "",
                    "address": addresses[0].addr_spec if addresses else "",
                }
            },
            "receivedDateTime": self.received.isoformat().replace("+00:00", "Z"),
            "categories": list(self.categories),
            "parentFolderId": self.folder,
        }
        if not select:
            return full
        return {k: v for k, v in full.items() if k in ("@odata.type", "id") or k in select}


@dataclass
class Mailbox:
    address: str
    folders: dict[str, Folder] = field(default_factory=dict)
    mails: dict[str, Mail] = field(default_factory=dict)
    # (seq, folder id, message id, "created" | "updated" | "removed")
    changes: list[tuple[int, str, str, str]] = field(default_factory=list)


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _not_found() -> JSONResponse:
    return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")


class FakeMail:
    """The mail part of a FakeGraph (its token and lock); routes every `/v1.0/users/...` request."""

    def __init__(self, graph: FakeGraph) -> None:
        self.graph = graph
        self.mailboxes: dict[str, Mailbox] = {}
        self.fail_next: list[MailFailure] = []
        self.denied: set[str] = set()
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path and query, Prefer header)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._skip: dict[str, tuple[list[dict[str, Any]], int, str, str]] = {}
        self._tokens: set[int] = set()  # delta tokens still valid

    # --- test helpers -------------------------------------------------------------------------------------------

    def add_mailbox(self, address: str) -> Mailbox:
        """A mailbox with the folders every Exchange mailbox has (root, Inbox, Archive, Deleted Items)."""
        box = Mailbox(address)
        root = self._folder(box, "Top of Information Store", None, "msgfolderroot")
        for name, known in (("Inbox", "inbox"), ("Archive", "archive"), ("Deleted Items", "deleteditems")):
            self._folder(box, name, root.id, known)
        self.mailboxes[address.lower()] = box
        return box

    def deliver(self, address: str, *mimes: bytes, folder: str = "Inbox") -> list[str]:
        """New messages in `folder` (a display-name path); returns their ids."""
        with self._lock:
            box = self.mailboxes[address.lower()]
            target = self.folder_at(box, folder)
            assert target is not None, folder
            return [self._add_mail(box, target.id, raw).id for raw in mimes]

    def subjects(self, address: str, folder: str) -> list[str]:
        """The subjects of the messages in `folder` (a display-name path), sorted; [] when it does not exist."""
        box = self.mailboxes[address.lower()]
        target = self.folder_at(box, folder)
        if target is None:
            return []
        return sorted(str(m.as_json(None)["subject"]) for m in box.mails.values() if m.folder == target.id)

    def categories(self, address: str, folder: str) -> dict[str, list[str]]:
        """Subject → categories of the messages in `folder`."""
        box = self.mailboxes[address.lower()]
        target = self.folder_at(box, folder)
        assert target is not None
        return {
            str(m.as_json(None)["subject"]): m.categories for m in box.mails.values() if m.folder == target.id
        }

    def folder_at(self, box: Mailbox, path: str) -> Folder | None:
        """The folder at a display-name path from the top (Inbox/Sub), or None."""
        parent = next(f.id for f in box.folders.values() if f.well_known == "msgfolderroot")
        found: Folder | None = None
        for part in path.strip("/").split("/"):
            found = next(
                (f for f in box.folders.values() if f.parent == parent and f.name.lower() == part.lower()),
                None,
            )
            if found is None:
                return None
            parent = found.id
        return found

    def expire_delta_tokens(self) -> None:
        """Every delta and skip token issued so far becomes invalid (410 SyncStateNotFound), as after a long pause."""
        with self._lock:
            self._tokens.clear()
            self._skip.clear()

    # --- internals ----------------------------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def _folder(self, box: Mailbox, name: str, parent: str | None, known: str | None = None) -> Folder:
        folder = Folder(self._new_id("AAMkFolder"), name, parent, known)
        box.folders[folder.id] = folder
        return folder

    def _add_mail(self, box: Mailbox, folder: str, raw: bytes, categories: list[str] | None = None) -> Mail:
        mail = Mail(self._new_id("AAMkMsg"), folder, raw, list(categories or []))
        box.mails[mail.id] = mail
        box.changes.append((next(self._seq), folder, mail.id, "created"))
        return mail

    def _folder_json(self, box: Mailbox, f: Folder) -> dict[str, Any]:
        return {
            "id": f.id,
            "displayName": f.name,
            "parentFolderId": f.parent,
            "childFolderCount": sum(1 for c in box.folders.values() if c.parent == f.id),
            "totalItemCount": sum(1 for m in box.mails.values() if m.folder == f.id),
        }

    def _resolve_folder(self, box: Mailbox, key: str) -> Folder | None:
        known = next((f for f in box.folders.values() if f.well_known == key.lower()), None)
        return known or box.folders.get(key)

    def _injected(self, method: str, target: str) -> Response | None:
        for i, failure in enumerate(self.fail_next):
            if re.search(failure.match, f"{method} {target}"):
                self.fail_next.pop(i)
                headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                return _error(failure.status, failure.code, "Injected failure.", **headers)
        return None

    async def dispatch(self, request: Request) -> Response:
        """Routes `/v1.0/users/{user}/...` (path segments parsed here: ids may arrive as `mailFolders('id')`)."""
        rest = request.path_params["rest"]
        target = rest + (f"?{request.url.query}" if request.url.query else "")
        self.requests.append((request.method, target, request.headers.get("prefer")))
        denied = self.graph._authorized(request)
        if denied is not None:
            return denied
        with self._lock:
            injected = self._injected(request.method, target)
        if injected is not None:
            return injected
        segments: list[str] = []
        for part in rest.split("/"):
            keyed = _KEYED.match(part)
            segments += [keyed.group(1), keyed.group(2)] if keyed else [part]
        user, path = segments[0], segments[1:]
        box = self.mailboxes.get(user.lower())
        if box is None:
            return _error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
        if box.address.lower() in self.denied:
            return _error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        body = await request.json() if request.method in ("POST", "PATCH") else {}
        with self._lock:
            return self._route(request, box, path, body)

    def _route(self, request: Request, box: Mailbox, path: list[str], body: dict[str, Any]) -> Response:
        method = request.method
        if path[:1] == ["mailFolders"]:
            root = next(f for f in box.folders.values() if f.well_known == "msgfolderroot")
            if len(path) == 1:
                return self._folders(request, box, root.id, body)
            folder = self._resolve_folder(box, path[1])
            if folder is None:
                return _not_found()
            if len(path) == 2 and method == "GET":
                return JSONResponse(self._folder_json(box, folder))
            if path[2:] == ["childFolders"]:
                return self._folders(request, box, folder.id, body)
            if path[2:] in (["messages", "delta"], ["messages", "delta()"]) and method == "GET":
                return self._delta(request, box, folder)
        if path[:1] == ["messages"] and len(path) >= 2:
            mail = box.mails.get(path[1])
            if mail is None:
                return _not_found()
            if path[2:] == ["$value"] and method == "GET":
                return Response(mail.mime, media_type="text/plain")
            if path[2:] == ["move"] and method == "POST":
                # action parameters are case-insensitive (msgraph-sdk sends DestinationId)
                given = {k.lower(): v for k, v in body.items()}
                return self._move(box, mail, str(given.get("destinationid", "")))
            if len(path) == 2 and method == "PATCH":
                mail.categories = [str(c) for c in body.get("categories", mail.categories)]
                box.changes.append((next(self._seq), mail.folder, mail.id, "updated"))
                return JSONResponse(mail.as_json(None))
            if len(path) == 2 and method == "GET":
                return JSONResponse(mail.as_json(None))
        return _error(400, "BadRequest", f"Unsupported request {method} /{'/'.join(path)}")

    def _folders(self, request: Request, box: Mailbox, parent: str, body: dict[str, Any]) -> Response:
        children = [f for f in box.folders.values() if f.parent == parent]
        if request.method == "POST":
            name = str(body.get("displayName") or "")
            if not name:
                return _error(400, "ErrorInvalidParameter", "displayName is required.")
            if any(f.name.lower() == name.lower() for f in children):
                return _error(409, "ErrorFolderExists", "A folder with the specified name already exists.")
            return JSONResponse(self._folder_json(box, self._folder(box, name, parent)), status_code=201)
        wanted = request.query_params.get("$filter")
        if wanted is not None:
            matched = _FILTER.match(wanted)
            if matched is None:
                return _error(
                    400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more errors."
                )
            name = matched.group(1).replace("''", "'")
            children = [f for f in children if f.name == name]  # Exchange compares display names exactly
        return JSONResponse({"value": [self._folder_json(box, f) for f in children]})

    def _move(self, box: Mailbox, mail: Mail, destination: str) -> Response:
        target = self._resolve_folder(box, destination)
        if target is None:
            return _not_found()
        del box.mails[mail.id]
        box.changes.append((next(self._seq), mail.folder, mail.id, "removed"))
        moved = self._add_mail(box, target.id, mail.mime, mail.categories)  # a new id in the target folder
        return JSONResponse(moved.as_json(None), status_code=201)

    def _delta(self, request: Request, box: Mailbox, folder: Folder) -> Response:
        prefer = request.headers.get("prefer", "")
        size_match = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        size = int(size_match.group(1)) if size_match else DEFAULT_PAGE_SIZE
        params = request.query_params
        skip, delta = params.get("$skiptoken"), params.get("$deltatoken")
        if skip is not None:
            if skip not in self._skip:
                return _error(410, "SyncStateNotFound", "The sync state was not found or has expired.")
            entries, upto, select, _ = self._skip[skip]  # a next link may be followed again (a retry)
        else:
            select = params.get("$select", "")
            fields = [s for s in select.split(",") if s]
            if delta is None:
                mails = sorted((m for m in box.mails.values() if m.folder == folder.id), key=lambda m: m.id)
                entries = [m.as_json(fields) for m in mails]
            elif not delta.isdigit() or int(delta) not in self._tokens:
                return _error(410, "SyncStateNotFound", "The sync state was not found or has expired.")
            else:
                entries = self._changes(box, folder, int(delta), fields)
            upto = box.changes[-1][0] if box.changes else 0
        page, left = entries[:size], entries[size:]
        base = f"{self.graph.graph_url}/users/{quote(box.address)}/mailFolders('{folder.id}')/messages/delta"
        out: dict[str, Any] = {
            "@odata.context": f"{self.graph.graph_url}/$metadata#Collection(message)",
            "value": page,
        }
        if left:
            token = self._new_id("skip")
            self._skip[token] = (left, upto, select, folder.id)
            out["@odata.nextLink"] = f"{base}?$skiptoken={token}"
        else:
            self._tokens.add(upto)
            out["@odata.deltaLink"] = f"{base}?$deltatoken={upto}" + (f"&$select={select}" if select else "")
        return JSONResponse(out)

    def _changes(self, box: Mailbox, folder: Folder, since: int, fields: list[str]) -> list[dict[str, Any]]:
        """The folder's changes after `since`, one entry per message (its latest state), oldest change first."""
        existed = {
            mid
            for seq, fid, mid, kind in box.changes
            if fid == folder.id and seq <= since and kind == "created"
        }
        latest: dict[str, int] = {}
        for seq, fid, mid, _ in box.changes:
            if fid == folder.id and seq > since:
                latest[mid] = seq
        entries = []
        for mid in sorted(latest, key=latest.__getitem__):
            mail = box.mails.get(mid)
            if mail is not None and mail.folder == folder.id:
                entries.append(mail.as_json(fields))
            elif mid in existed:
                entries.append(
                    {"@odata.type": "#microsoft.graph.message", "id": mid, "@removed": {"reason": "deleted"}}
                )
        return entries
