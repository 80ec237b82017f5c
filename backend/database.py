"""Engine settings per database: SQLite pragmas and a writer queue for the embedded mode."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import weakref
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import make_transient_to_detached

from backend.extensions import db

T = TypeVar("T")

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_QUEUES: weakref.WeakKeyDictionary[Any, SQLiteWriterQueue] = weakref.WeakKeyDictionary()


#: Connection settings of every SQLite connection. WAL lets readers run beside the writer;
#: NORMAL sync is safe in WAL and much faster; busy_timeout makes a second writer wait
#: instead of failing at once.
_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000")
#: For a file shared through the writer queue: the queue checkpoints (see `SQLiteWriterQueue`),
#: and a WAL file left large by a burst is cut back to 64 MiB when it restarts.
_QUEUED_PRAGMAS = ("wal_autocheckpoint=0", "journal_size_limit=67108864")
#: Write transactions of one process between two checkpoints of the WAL into the database.
CHECKPOINT_EVERY = 100


def _run_pragmas(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in pragmas:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    _run_pragmas(dbapi_connection, _PRAGMAS)


def _queued_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    _run_pragmas(dbapi_connection, _PRAGMAS + _QUEUED_PRAGMAS)


class SQLiteWriterQueue:
    """One writing transaction at a time across processes and threads, queued by the kernel.

    SQLite lets one transaction write at a time; a second writer is made to wait by the busy
    handler, which sleeps and retries (1, 2, 5, 10... ms), so under concurrent writes requests
    mostly sleep. Taking an flock on a file beside the database when a transaction first
    writes, and dropping it when it commits or rolls back, covers exactly the span SQLite
    locks anyway, but the next writer is woken the moment the lock is free. Readers never
    take it (WAL lets them read beside the writer).

    The queue also checkpoints. SQLite's automatic checkpoint runs inside the commit that
    fills the WAL, so it would run while this writer still holds its turn, and every other
    writer would wait for its page copies and fsyncs. With automatic checkpoints off, every
    `CHECKPOINT_EVERY`-th write transaction of a process runs a PASSIVE checkpoint just after
    it let the next writer in: the copying runs beside the next write instead of before it.
    """

    def __init__(self, database_path: str, *, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.path = f"{database_path}.writer-lock"
        self._held: dict[int, int] = {}
        self._guard = threading.Lock()
        self._checkpoint_every = checkpoint_every
        self._writes = 0

    def acquire(self, dbapi_connection: Any) -> None:
        """Wait for the queue, once per transaction of this connection."""
        key = id(dbapi_connection)
        if key in self._held:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        with self._guard:
            self._held[key] = fd

    def release(self, dbapi_connection: Any) -> None:
        """Let the next writer in (after the transaction ended)."""
        # The dialect is handed the pool's proxy, events the driver's connection: key on the latter.
        dbapi_connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        with self._guard:
            fd = self._held.pop(id(dbapi_connection), None)
        if fd is None:
            return
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        self._writes += 1
        if self._writes % self._checkpoint_every == 0:
            # Closed or busy: the next turn's checkpoint catches up.
            with contextlib.suppress(sqlite3.Error):
                checkpoint(dbapi_connection)

    def install(self, engine: Any) -> None:
        """Hook the queue into an engine: first write of a transaction, commit, rollback."""

        def before_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip()[:7].upper().startswith(_WRITES):
                self.acquire(conn.connection.dbapi_connection)

        def after_execute(conn: Any, *_args: Any) -> None:
            # A write outside a transaction (autocommit, as Alembic's version stamp) is over.
            dbapi_connection = conn.connection.dbapi_connection
            if not dbapi_connection.in_transaction:
                self.release(dbapi_connection)

        def checkin(dbapi_connection: Any, *_args: Any) -> None:
            # Back in the pool, closed or invalidated: its transaction has ended either way.
            self.release(dbapi_connection)

        dialect = engine.dialect
        do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

        def commit(dbapi_connection: Any) -> None:
            try:
                do_commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def rollback(dbapi_connection: Any) -> None:
            try:
                do_rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        _QUEUES[engine] = self
        event.listen(engine, "before_cursor_execute", before_execute)
        event.listen(engine, "after_cursor_execute", after_execute)
        for pool_event in ("checkin", "close", "invalidate"):
            event.listen(engine.pool, pool_event, checkin)
        dialect.do_commit, dialect.do_rollback = commit, rollback


def checkpoint(dbapi_connection: Any) -> tuple[int, int, int]:
    """Copy the WAL's committed pages into the database file without waiting for anyone:
    (busy, frames in the WAL, frames copied), as `PRAGMA wal_checkpoint` reports them."""
    cursor = dbapi_connection.cursor()
    try:
        busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        cursor.close()
    return busy, frames, copied


def configure_engine_events(app: Flask) -> None:
    """Install per-connection settings for the configured database."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return
        path = engine.url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            event.listen(engine, "connect", _queued_sqlite_pragmas)
            SQLiteWriterQueue(os.path.abspath(path)).install(engine)
        else:
            event.listen(engine, "connect", _sqlite_pragmas)


def writer_queue(engine: Any) -> SQLiteWriterQueue | None:
    """The writer queue of an engine (SQLite files only): raw DBAPI writers must take it too."""
    return _QUEUES.get(engine)


def take_writer_turn(session: Any = None) -> None:
    """On SQLite, wait for the writer's turn now, before the reads a write will depend on.

    SQLite ignores `SELECT ... FOR UPDATE`, and the queue is otherwise taken at a transaction's
    first write, after its reads: two requests could both read a balance of 50, both decide a
    redemption of 10 fits, and both write. Taken first, the second request reads after the
    first committed. No-op elsewhere (PostgreSQL locks rows instead: `read_for_update`).
    """
    session = session or db.session
    connection = session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.in_transaction:
        return  # this transaction wrote already: it holds the turn until it ends
    queue = writer_queue(connection.engine)
    if queue is not None:
        queue.acquire(dbapi_connection)
    # Open the write transaction now (the queue is released when a statement ends outside
    # one); IMMEDIATE takes SQLite's own write lock too, so the reads that follow are current.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_for_update(query: Any, *, of: Any = None, session: Any = None) -> Any:
    """A SELECT whose rows this transaction reads, decides on and then changes: the rows are
    locked (PostgreSQL) or the writer's turn taken (SQLite) before they are read, and they are
    read afresh over what the session held. Every read-decide-write goes through this; a
    query locking several rows must order them (by id), so that every transaction takes them
    in the same order and none deadlocks."""
    session = session or db.session
    if session.get_bind().dialect.name == "sqlite":
        take_writer_turn(session)
    else:
        query = query.with_for_update(of=of) if of is not None else query.with_for_update()
    return query.execution_options(populate_existing=True)


def lock_row(model: Any, row: Any, *, session: Any = None) -> Any:
    """Re-read one ORM row under `read_for_update`, to decide a change on its current state."""
    session = session or db.session
    query = read_for_update(sa.select(model).where(model.id == row.id), of=model, session=session)
    return session.scalars(query).one()


def insert_or_nothing(table: Any, *, session: Any = None) -> Any:
    """`INSERT ... ON CONFLICT` for the dialect in use: create-on-first-use without a race
    (add `.on_conflict_do_nothing()`, then read the row that won)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = (session or db.session).get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


#: One prebuilt INSERT per table (building a statement per request costs more than running it).
_INSERTS: dict[Any, Any] = {}


def insert_attached(model: type[T], row: dict[str, Any]) -> T:
    """Insert one row with a Core INSERT (every column given) and return it as an ORM object
    the session knows as stored: no unit-of-work flush for a row nothing changes in the
    request (~0.15 ms less per insert on the hot write paths)."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = sa.insert(table)
    db.session.execute(statement, row)
    instance = model(**row)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance
