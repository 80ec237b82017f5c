"""The SQLite writer queue: writers take turns through an flock, readers never wait for it."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
import sqlalchemy as sa

from backend.database import SQLiteWriterQueue


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    queue = SQLiteWriterQueue(str(tmp_path / "queue.db"))
    queue.install(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    yield engine, queue
    engine.dispose()


def _locked_elsewhere(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_the_lock_spans_a_writing_transaction_only(engine):
    engine, queue = engine
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT COUNT(*) FROM t")).scalar()
        assert not _locked_elsewhere(queue.path)  # reading takes no turn
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        assert _locked_elsewhere(queue.path)
        connection.commit()
        assert not _locked_elsewhere(queue.path)
        connection.execute(sa.text("INSERT INTO t VALUES (2)"))
        connection.rollback()
        assert not _locked_elsewhere(queue.path)
    assert queue._held == {}


def test_concurrent_writers_queue_instead_of_failing(engine):
    engine, queue = engine
    errors: list[Exception] = []

    def write(n: int) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
                time.sleep(0.01)  # hold the turn a while
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM t")).scalar() == 8


def test_the_queue_checkpoints_every_nth_write_after_letting_the_next_writer_in(
    tmp_path, monkeypatch
):
    from backend import database

    path = str(tmp_path / "checkpoints.db")
    engine = sa.create_engine(f"sqlite:///{path}")
    sa.event.listen(engine, "connect", database._queued_sqlite_pragmas)
    queue = SQLiteWriterQueue(path, checkpoint_every=3)
    queue.install(engine)
    seen: list[tuple[bool, tuple[int, int, int]]] = []
    real_checkpoint = database.checkpoint

    def recording_checkpoint(dbapi_connection):
        held = _locked_elsewhere(queue.path)
        result = real_checkpoint(dbapi_connection)
        seen.append((held, result))
        return result

    monkeypatch.setattr(database, "checkpoint", recording_checkpoint)
    with engine.connect() as connection:
        # SQLite's own checkpoint is off: only the queue's run.
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        for n in range(7):
            connection.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})
            connection.commit()
    engine.dispose()
    # Seven writing transactions: checkpoints after the 3rd and the 6th.
    assert len(seen) == 2
    for held, (busy, frames, copied) in seen:
        assert held is False  # the writer's turn was already given back
        assert busy == 0 and frames > 0 and copied == frames  # the whole WAL reached the file
