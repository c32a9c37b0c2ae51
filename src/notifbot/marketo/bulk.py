"""Bulk Activity Extract: a handful of calls per export job instead of one call per 300 activities."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from notifbot.errors import MarketoError
from notifbot.marketo.client import MarketoClient

BASE = "/bulk/v1/activities/export"
FIELDS = ("activityDate", "activityTypeId", "campaignId")
MAX_WINDOW_DAYS = 31
DONE = frozenset({"Completed", "Failed", "Cancelled"})


@dataclass(frozen=True)
class ExportStatus:
    """What `status.json` says of one export job."""

    export_id: str
    status: str
    records: int | None = None
    file_size: int | None = None
    checksum: str | None = None


def _stamp(dt: datetime) -> str:
    # Marketo wants ISO-8601 without milliseconds
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _first(data: dict[str, Any], what: str, munchkin: str) -> dict[str, Any]:
    result = data.get("result")
    first = result[0] if isinstance(result, list) and result else None
    if not isinstance(first, dict):
        raise MarketoError("parse", f"{munchkin} bulk export {what}: answer has no result")
    return first


def _status(first: dict[str, Any]) -> ExportStatus:
    def num(key: str) -> int | None:
        value = first.get(key)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    checksum = first.get("fileChecksum")
    return ExportStatus(
        str(first.get("exportId") or ""),
        str(first.get("status") or "unknown"),
        num("numberOfRecords"),
        num("fileSize"),
        str(checksum) if checksum else None,
    )


async def create_export(
    client: MarketoClient, start: datetime, end: datetime, activity_type_ids: Sequence[int]
) -> str:
    """Creates an activity export for [start, end) (≤ 31 days) and returns its exportId (two calls with enqueue)."""
    body = {
        "format": "CSV",
        "fields": list(FIELDS),
        "filter": {
            "createdAt": {"startAt": _stamp(start), "endAt": _stamp(end)},
            "activityTypeIds": list(activity_type_ids),
        },
    }
    data = await client.post(f"{BASE}/create.json", body, feature="activities")
    export_id = _first(data, "create", client.munchkin_id).get("exportId")
    if not export_id:
        raise MarketoError("parse", f"{client.munchkin_id} bulk export create: no exportId in the answer")
    return str(export_id)


async def enqueue_export(client: MarketoClient, export_id: str) -> ExportStatus:
    """Queues a created export (Marketo answers 1029 when its queue or daily export allowance is full)."""
    data = await client.post(f"{BASE}/{export_id}/enqueue.json", feature="activities")
    return _status(_first(data, "enqueue", client.munchkin_id))


async def export_status(client: MarketoClient, export_id: str) -> ExportStatus:
    """The job's status: Created, Queued, Processing, Completed, Failed or Cancelled."""
    data = await client.get(f"{BASE}/{export_id}/status.json", feature="activities")
    return _status(_first(data, "status", client.munchkin_id))


async def export_file(client: MarketoClient, status: ExportStatus) -> bytes:
    """Downloads a completed job's CSV and checks it against the job's SHA-256 checksum when one is given."""
    content = await client.download(f"{BASE}/{status.export_id}/file.json", feature="activities")
    if status.checksum:
        expected = status.checksum.split(":", 1)[-1].strip().lower()
        if hashlib.sha256(content).hexdigest() != expected:
            raise MarketoError(
                "parse",
                f"{client.munchkin_id} bulk export {status.export_id}: the file does not match its SHA-256 "
                "checksum (incomplete download); it will be fetched again",
            )
    return content


def iter_campaign_activity(content: bytes) -> Iterator[tuple[int, str]]:
    """(campaignId, activityDate) per CSV row that names a campaign; rows without one are skipped."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace")))
    for row in reader:
        campaign, when = (row.get("campaignId") or "").strip(), (row.get("activityDate") or "").strip()
        if campaign.isdigit() and when:
            yield int(campaign), when
