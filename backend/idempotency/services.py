"""Looking up, storing and purging idempotency records."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from backend.clock import utcnow
from backend.errors import Conflict
from backend.extensions import db
from backend.idempotency.models import IdempotencyRecord
from backend.ids import new_id

RETENTION = timedelta(hours=24)
#: The scope of requests made without a login (sign-up, login).
ANONYMOUS_SCOPE = "anonymous"


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same" for a key."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


_RECORDS = IdempotencyRecord.__table__
#: Built once: every keyed POST runs these, and building a statement per request costs more
#: than running it. Core, not the ORM: the answer is read once and the row never changes.
_FIND = sa.select(
    _RECORDS.c.fingerprint,
    _RECORDS.c.status_code,
    _RECORDS.c.content_type,
    _RECORDS.c.location,
    _RECORDS.c.body,
    _RECORDS.c.created_at,
).where(_RECORDS.c.scope == sa.bindparam("scope"), _RECORDS.c.key == sa.bindparam("key"))
_DELETE_EXPIRED = sa.delete(_RECORDS).where(
    _RECORDS.c.scope == sa.bindparam("scope"),
    _RECORDS.c.key == sa.bindparam("key"),
    _RECORDS.c.created_at <= sa.bindparam("cutoff"),
)
_INSERT = sa.insert(_RECORDS)


class KeyLookup(NamedTuple):
    """What a key holds: a live answer to replay, or an expired record in the way, or neither."""

    answer: sa.Row | None
    #: An expired record still holds (scope, key): storing a new answer must replace it.
    expired: bool = False


def find_replay(*, scope: str, key: str, fingerprint: str) -> KeyLookup:
    """The stored answer for a key, if live; a key reused for another request is a conflict."""
    row = db.session.execute(_FIND, {"scope": scope, "key": key}).first()
    if row is None:
        return KeyLookup(answer=None)
    if row.created_at <= utcnow() - RETENTION:
        return KeyLookup(answer=None, expired=True)
    if row.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used for a different request.", code="idempotency_key_reused"
        )
    return KeyLookup(answer=row)


def store_answer(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    status_code: int,
    content_type: str,
    location: str | None,
    body: bytes,
    replace_expired: bool = False,
) -> None:
    """Keep the first answer in the request's own transaction (so it exists only if it acted).

    A second request with the same key racing this one fails on the unique (scope, key) index.
    """
    now = utcnow()
    if replace_expired:
        # Only when the lookup saw one: an extra DELETE on every keyed write is measurable.
        db.session.execute(_DELETE_EXPIRED, {"scope": scope, "key": key, "cutoff": now - RETENTION})
    db.session.execute(
        _INSERT,
        answer_row(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            content_type=content_type,
            location=location,
            body=body,
            now=now,
        ),
    )


def answer_row(
    *,
    scope: str,
    key: str,
    fingerprint: str,
    status_code: int,
    content_type: str,
    location: str | None,
    body: bytes,
    now: datetime,
) -> dict[str, Any]:
    """The stored record of a first answer."""
    return {
        "id": new_id(),
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "status_code": status_code,
        "content_type": content_type,
        "location": location,
        "body": body,
        "created_at": now,
    }


def purge_expired() -> int:
    """Delete records older than the retention period; returns how many went."""
    result = db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= utcnow() - RETENTION)
    )
    return result.rowcount or 0


def forget_anonymous_answers_about(user_id: str) -> int:
    """Delete the stored answers of anonymous requests that describe this account (its sign-up,
    kept for replays): they hold its name and contacts. Anonymous answers live `RETENTION`
    until `flask purge-idempotency` removes them, so there are few to read; they are matched on
    the answer's own `id` (expired ones not yet purged included). Returns how many went."""
    rows = db.session.execute(
        sa.select(_RECORDS.c.id, _RECORDS.c.body).where(
            _RECORDS.c.scope == ANONYMOUS_SCOPE,
            _RECORDS.c.content_type.startswith("application/json"),
        )
    ).all()
    doomed = [row.id for row in rows if _answer_id(row.body) == user_id]
    if doomed:
        db.session.execute(sa.delete(_RECORDS).where(_RECORDS.c.id.in_(doomed)))
    return len(doomed)


def _answer_id(body: bytes) -> Any:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer.get("id") if isinstance(answer, dict) else None
