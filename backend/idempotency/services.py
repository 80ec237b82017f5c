"""Looking up, storing and purging idempotency records."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from backend.clock import utcnow
from backend.errors import Conflict
from backend.extensions import db
from backend.idempotency.models import IdempotencyRecord

RETENTION = timedelta(hours=24)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same" for a key."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def find_replay(*, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """The stored answer for a key, or None; a key reused for another request is a conflict."""
    record = db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at > utcnow() - RETENTION,
        )
    )
    if record is not None and record.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used for a different request.", code="idempotency_key_reused"
        )
    return record


def store_answer(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    status_code: int,
    content_type: str,
    location: str | None,
    body: bytes,
) -> None:
    """Keep the first answer in the request's own transaction (so it exists only if it acted)."""
    db.session.execute(
        sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at <= utcnow() - RETENTION,
        )
    )
    db.session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            content_type=content_type,
            location=location,
            body=body,
        )
    )
    db.session.flush()


def purge_expired() -> int:
    """Delete records older than the retention period; returns how many went."""
    result = db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= utcnow() - RETENTION)
    )
    return result.rowcount or 0
