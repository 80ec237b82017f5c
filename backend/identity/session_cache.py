"""The per-request session check, cached per worker behind a version counter.

Every signed-in request needs its caller: the user and the login session its token names,
checked (not logged out, not expired, account usable). Loading both rows costs a joined query
and three ORM objects. A worker keeps the rows it loaded, and per request reads only
`auth_state.version` (one integer, by primary key); the copy is used while that number is
unchanged. Every change to a user, a login session or a municipality moves the number in the
changing transaction (`watch_changes`: ORM flushes and bulk UPDATE/DELETE statements alike), so
a logout, a demotion or a deactivation made on any worker empties every worker's copy on its
next request: it takes effect at once everywhere, as without the cache.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from backend.extensions import db
from backend.identity.models import AuthSession, AuthState, Municipality, User

STATE_ROW_ID = 1
_STATE = AuthState.__table__
_READ_VERSION = sa.select(_STATE.c.version).where(_STATE.c.id == STATE_ROW_ID)
_WATCHED = (User, AuthSession, Municipality)
_WATCHED_TABLES = frozenset(model.__tablename__ for model in _WATCHED)
#: Entries kept per worker (and thread); beyond it the copy starts again.
MAX_ENTRIES = 10_000
_BUMPED = "auth_state_bumped"


class SessionCache:
    """Loaded (user, session) pairs of one worker, valid for one auth_state version.

    Kept per thread: an ORM object is merged into one request's database session at a time.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def _state(self) -> tuple[int | None, dict[tuple[str, str], tuple[User, AuthSession]]]:
        local = self._local
        if not hasattr(local, "entries"):
            local.version, local.entries = None, {}
        return local.version, local.entries

    def lookup(self, user_id: str, session_id: str) -> tuple[User, AuthSession] | None:
        """The cached pair, attached to this request's database session, if still current."""
        version = current_version()
        cached_version, entries = self._state()
        if version != cached_version:
            self._local.version, self._local.entries = version, {}
            return None
        found = entries.get((user_id, session_id))
        if found is None:
            return None
        user, session = found
        # Attached without a query (the copy is current: the version did not move).
        return (
            db.session.merge(user, load=False),
            db.session.merge(session, load=False),
        )

    def store(self, user: User, session: AuthSession) -> None:
        """Keep a detached copy of a pair loaded in this request (under the version read by
        this request's `lookup`, so a change committed since only empties the copy early)."""
        _version, entries = self._state()
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[(user.id, session.id)] = (_detached_copy(user), _detached_copy(session))


def _detached_copy(instance: Any) -> Any:
    """A detached copy of a loaded row (and its loaded many-to-one), for `merge(load=False)`."""
    mapper = sa.inspect(instance).mapper
    values = sa.inspect(instance).dict
    copy = mapper.class_()
    for column in mapper.column_attrs:
        if column.key in values:
            setattr(copy, column.key, values[column.key])
    for relation in mapper.relationships:
        if values.get(relation.key) is not None:
            setattr(copy, relation.key, _detached_copy(values[relation.key]))
    make_transient_to_detached(copy)
    return copy


def session_cache(app: Flask | None = None) -> SessionCache:
    """This app's cache, made on first use."""
    app = app or current_app
    found = app.extensions.get("session_cache")
    if found is None:
        found = app.extensions["session_cache"] = SessionCache()
    return found


def current_version() -> int:
    """The auth state version (0 before the first change)."""
    return int(db.session.execute(_READ_VERSION).scalar() or 0)


def bump_version(session: Session) -> None:
    """Move the version, in the caller's transaction (an upsert: the row may be missing)."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_STATE)
    session.execute(
        insert.values(id=STATE_ROW_ID, version=1).on_conflict_do_update(
            index_elements=[_STATE.c.id], set_={"version": _STATE.c.version + 1}
        )
    )


def _changes_watched_rows(session: Session) -> bool:
    if any(isinstance(obj, _WATCHED) for obj in session.deleted):
        return True
    return any(
        isinstance(obj, _WATCHED) and session.is_modified(obj, include_collections=False)
        for obj in session.dirty
    )


_watching = False


def watch_changes() -> None:
    """Move the version whenever a transaction changes a user, a session or a municipality
    (once per transaction is enough: the new number becomes visible with the change)."""
    global _watching
    if _watching:
        return
    _watching = True

    @sa.event.listens_for(Session, "before_flush")
    def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
        if not session.info.get(_BUMPED) and _changes_watched_rows(session):
            bump_version(session)
            session.info[_BUMPED] = True

    @sa.event.listens_for(Session, "do_orm_execute")
    def _on_execute(state: Any) -> None:
        if not (state.is_update or state.is_delete) or state.session.info.get(_BUMPED):
            return
        table = getattr(state.statement, "table", None)
        if table is not None and table.name in _WATCHED_TABLES:
            state.session.info[_BUMPED] = True
            bump_version(state.session)

    @sa.event.listens_for(Session, "after_transaction_end")
    def _on_end(session: Session, _transaction: Any) -> None:
        # Any end (a savepoint's too, which may have rolled the bump back): bump again next time.
        session.info.pop(_BUMPED, None)
