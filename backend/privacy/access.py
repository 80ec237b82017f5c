"""Access records (개인정보 접속기록): who read, exported, changed or deleted whose data.

Staff-facing views call `record_access` (through `backend.api.access_log.log_access`) with the
people their answer held. Records are append-only: no service here updates one, and only
`purge_access_records` deletes, once a record is older than `ACCESS_RECORD_RETENTION_DAYS`.
The writes are two Core statements (the record, then its subjects in one multi-row INSERT), so
a list of 100 people costs two round trips, not 101 ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from backend.clock import SEOUL, utcnow
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page, paginate
from backend.permissions import access_is_recorded, can_read_access_records, scope_to_municipality
from backend.privacy.models import AccessAction, AccessRecord, AccessRecordSubject

_INSERT_RECORD = sa.insert(AccessRecord.__table__)
_INSERT_SUBJECT = sa.insert(AccessRecordSubject.__table__)
#: Staff hours (Asia/Seoul) for the monthly review: access outside them is flagged.
OFFICE_HOURS = (8, 20)
#: An export count this many times above the account's usual monthly count is flagged.
EXPORT_SPIKE_FACTOR = 3
#: ... and only from this many exports in the month on (a first export is not unusual).
EXPORT_SPIKE_MINIMUM = 5


def require_reason(reason: str | None) -> str:
    """A download of personal data must say why; refused (422 `reason_required`) without."""
    if not reason or not reason.strip():
        raise ValidationFailed(
            "Give a reason to download personal data.",
            code="reason_required",
            fields={"reason": ["Required for downloads of personal data."]},
        )
    return reason.strip()


def record_access(
    *,
    actor: User,
    address: str | None,
    action: AccessAction,
    resource: str,
    subject_ids: Iterable[str],
    resource_id: str | None = None,
    reason: str | None = None,
) -> str | None:
    """Write an access record of staff reading or handling citizens' data; None for citizens
    (a citizen only ever sees their own data or masked names)."""
    if not access_is_recorded(actor):
        return None
    if action == AccessAction.EXPORT:
        reason = require_reason(reason)
    subjects = list(dict.fromkeys(subject_ids))
    record_id = new_id()
    db.session.execute(
        _INSERT_RECORD,
        {
            "id": record_id,
            "actor_id": actor.id,
            "actor_role": actor.role.value,
            "municipality_id": actor.municipality_id,
            "address": (address or "")[:64] or None,
            "action": action.value,
            "resource": resource,
            "resource_id": resource_id,
            "subject_count": len(subjects),
            "reason": reason,
            "created_at": utcnow(),
        },
    )
    if subjects:
        # An executemany: SQLAlchemy sends it as one multi-row INSERT on PostgreSQL
        # ("insertmanyvalues") from a statement compiled once; `.values([...])` compiled a new
        # statement of 2 x N parameters per request (~1 ms of CPU for a page of 50).
        db.session.execute(
            _INSERT_SUBJECT, [{"record_id": record_id, "user_id": s} for s in subjects]
        )
    return record_id


def _ensure_reader(viewer: User) -> None:
    if not can_read_access_records(viewer):
        raise PermissionDenied("Only admins read the access records.")


def list_access_records(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    subject_id: str | None = None,
    actor_id: str | None = None,
    action: AccessAction | None = None,
    resource: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page:
    """Access records, newest first; `subject_id` answers "who looked at this citizen"."""
    _ensure_reader(viewer)
    query = scope_to_municipality(sa.select(AccessRecord), AccessRecord, viewer)
    if subject_id is not None:
        query = query.where(
            AccessRecord.id.in_(
                sa.select(AccessRecordSubject.record_id).where(
                    AccessRecordSubject.user_id == subject_id
                )
            )
        )
    for column, value in (
        (AccessRecord.actor_id, actor_id),
        (AccessRecord.action, action),
        (AccessRecord.resource, resource),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AccessRecord.created_at >= since)
    if until is not None:
        query = query.where(AccessRecord.created_at < until)
    return paginate(query, AccessRecord.id, limit=limit, cursor=cursor)


@dataclass
class ReviewFlag:
    """One unusual pattern in a month's access records."""

    actor_id: str | None
    kind: str
    detail: str
    count: int


def monthly_review(*, viewer: User, month: str) -> dict[str, Any]:
    """The month's review (Asia/Seoul): totals, and flags for exports far above an account's
    usual (the mean of its previous six months) and for access outside office hours."""
    _ensure_reader(viewer)
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=SEOUL)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=SEOUL)
    history_start = datetime(year - (number <= 6), (number - 7) % 12 + 1, 1, tzinfo=SEOUL)
    rows = db.session.execute(
        sa.select(AccessRecord.actor_id, AccessRecord.action, AccessRecord.created_at).where(
            AccessRecord.created_at >= history_start, AccessRecord.created_at < end
        )
    ).all()
    exports_now: dict[str | None, int] = {}
    exports_before: dict[str | None, int] = {}
    off_hours: dict[str | None, int] = {}
    total = exports = 0
    for actor_id, action, created_at in rows:
        local = created_at.astimezone(SEOUL)
        is_export = action == AccessAction.EXPORT
        if created_at < start:
            if is_export:
                exports_before[actor_id] = exports_before.get(actor_id, 0) + 1
            continue
        total += 1
        if is_export:
            exports += 1
            exports_now[actor_id] = exports_now.get(actor_id, 0) + 1
        if local.weekday() >= 5 or not OFFICE_HOURS[0] <= local.hour < OFFICE_HOURS[1]:
            off_hours[actor_id] = off_hours.get(actor_id, 0) + 1
    flags = []
    for actor_id, count in sorted(exports_now.items(), key=lambda kv: -kv[1]):
        usual = exports_before.get(actor_id, 0) / 6
        if count >= EXPORT_SPIKE_MINIMUM and count > EXPORT_SPIKE_FACTOR * usual:
            flags.append(
                ReviewFlag(actor_id, "export_volume", f"{count} exports, usual {usual:.1f}", count)
            )
    for actor_id, count in sorted(off_hours.items(), key=lambda kv: -kv[1]):
        flags.append(
            ReviewFlag(actor_id, "off_hours", f"{count} accesses outside 08-20 or weekends", count)
        )
    return {"month": month, "records": total, "exports": exports, "flags": flags}


def purge_access_records(*, now: datetime | None = None) -> int:
    """Delete access records older than their retention (the scheduled job only)."""
    days = current_app.config["ACCESS_RECORD_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = sa.select(AccessRecord.id).where(AccessRecord.created_at < cutoff)
    db.session.execute(sa.delete(AccessRecordSubject).where(AccessRecordSubject.record_id.in_(old)))
    result = db.session.execute(sa.delete(AccessRecord).where(AccessRecord.created_at < cutoff))
    return result.rowcount or 0
