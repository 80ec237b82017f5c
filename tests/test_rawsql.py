"""backend.rawsql: several SELECTs read as one, rows written behind a guard as one statement
(PostgreSQL) or one short transaction (SQLite), prepared statements, held connections."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from backend import rawsql
from backend.extensions import db
from backend.rawsql import RawConnection, Read, Write

# Raw DBAPI connections of the pool, beside the session's.
pytestmark = pytest.mark.real_commits

_META = sa.MetaData()
COUNTERS = sa.Table(
    "rawsql_test_counters",
    _META,
    sa.Column("id", sa.String(10), primary_key=True),
    sa.Column("left", sa.Integer, nullable=False),
)
ROWS = sa.Table(
    "rawsql_test_rows",
    _META,
    sa.Column("id", sa.String(10), primary_key=True),
    sa.Column("counter_id", sa.String(10), nullable=False),
    sa.Column("note", sa.String(40)),
    sa.Column("details", sa.JSON, nullable=False),
)

BY_ID = sa.select(COUNTERS.c.id, COUNTERS.c.left).where(COUNTERS.c.id == sa.bindparam("id"))
ROWS_OF = (
    sa.select(ROWS.c.id, ROWS.c.details)
    .where(ROWS.c.counter_id == sa.bindparam("id"))
    .order_by(ROWS.c.id)
)
TAKE_ONE = (
    sa.update(COUNTERS)
    .where(COUNTERS.c.id == sa.bindparam("id"), COUNTERS.c.left > 0)
    .values(left=COUNTERS.c.left - 1)
)
INSERT_ROW = sa.insert(ROWS)


@pytest.fixture
def tables(app) -> Iterator[sa.Engine]:
    """The two test tables, with counters `a` (2 left) and `b` (none left)."""
    with app.app_context():
        engine = db.engine
        _META.drop_all(engine)
        _META.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                sa.insert(COUNTERS), [{"id": "a", "left": 2}, {"id": "b", "left": 0}]
            )
        yield engine
        _META.drop_all(engine)


def _row(row_id: str, counter_id: str = "a") -> Write:
    return Write(
        INSERT_ROW,
        {"id": row_id, "counter_id": counter_id, "note": None, "details": {"n": row_id}},
    )


def _stored(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(ROWS.c.id, ROWS.c.details).order_by(ROWS.c.id))
        left = connection.execute(sa.select(COUNTERS.c.id, COUNTERS.c.left).order_by("id"))
        return [*rows.all(), *left.all()]


def test_a_combined_read_gives_each_statement_its_own_answer(tables):
    with RawConnection(tables) as raw:
        raw.write_if(TAKE_ONE, {"id": "a"}, [_row("r1"), _row("r2")])
        raw.commit()
    with RawConnection(tables) as raw:
        a, missing, b, rows = raw.read(
            Read(BY_ID, {"id": "a"}),
            Read(BY_ID, {"id": "nobody"}),
            Read(BY_ID, {"id": "b"}),
            Read(ROWS_OF, {"id": "a"}, many=True),
        )
        (none_found,) = raw.read(Read(ROWS_OF, {"id": "b"}, many=True))
    assert (a, missing, b) == (("a", 1), None, ("b", 0))
    # Values come back converted by the column types (JSON decoded), as the ORM reads them.
    assert rows == [("r1", {"n": "r1"}), ("r2", {"n": "r2"})]
    assert none_found == []


def test_only_the_last_read_may_find_several_rows(tables):
    with RawConnection(tables) as raw, pytest.raises(ValueError):
        raw.read(Read(ROWS_OF, {"id": "a"}, many=True), Read(BY_ID, {"id": "a"}))


def test_rows_are_written_only_when_the_guard_changes_a_row(tables):
    with RawConnection(tables) as raw:
        assert raw.write_if(TAKE_ONE, {"id": "a"}, [_row("r1"), _row("r2")]) is True
        raw.commit()
    with RawConnection(tables) as raw:
        assert raw.write_if(TAKE_ONE, {"id": "b"}, [_row("r3", "b")]) is False
        raw.commit()
    assert _stored(tables) == [("r1", {"n": "r1"}), ("r2", {"n": "r2"}), ("a", 1), ("b", 0)]


def test_a_failing_write_leaves_nothing_and_the_next_request_gets_a_working_connection(tables):
    with RawConnection(tables) as raw:
        raw.write_if(TAKE_ONE, {"id": "a"}, [_row("r1")])
        raw.commit()
    integrity_error = tables.dialect.dbapi.IntegrityError
    with pytest.raises(integrity_error), RawConnection(tables) as raw:
        # The second row repeats a primary key: the whole write fails, the seat is not taken.
        raw.write_if(TAKE_ONE, {"id": "a"}, [_row("r2"), _row("r1")])
        raw.commit()
    with RawConnection(tables) as raw:
        assert raw.write_if(TAKE_ONE, {"id": "a"}, [_row("r3")]) is True
        raw.commit()
    assert _stored(tables) == [("r1", {"n": "r1"}), ("r3", {"n": "r3"}), ("a", 0), ("b", 0)]


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="server-side prepared statements are PostgreSQL's (TEST_DATABASE_URL)",
)
def test_postgresql_prepares_each_statement_once_per_connection(tables):
    for row_id in ("r1", "r2"):
        with RawConnection(tables) as raw:
            raw.read(Read(BY_ID, {"id": "a"}), Read(ROWS_OF, {"id": "a"}, many=True))
            raw.write_if(TAKE_ONE, {"id": "a"}, [_row(row_id)])
            raw.commit()
    with RawConnection(tables) as raw:
        raw._cursor.execute("SELECT name, statement FROM pg_prepared_statements ORDER BY name")
        prepared = raw._cursor.fetchall()
    # One read and one write, each prepared once although each ran twice.
    assert len(prepared) == 2
    assert any(text.startswith("PREPARE raw_") and "WITH guard AS" in text for _, text in prepared)
    assert _stored(tables)[-2:] == [("a", 0), ("b", 0)]


def test_prepared_forms_number_each_parameter_once():
    prepare, execute = rawsql._prepared_forms(
        "SELECT 1 WHERE a = %(x)s AND b = %(y)s OR c = %(x)s", "raw_9"
    )
    assert prepare == "PREPARE raw_9 AS SELECT 1 WHERE a = $1 AND b = $2 OR c = $1"
    assert execute == "EXECUTE raw_9 (%(x)s, %(y)s)"
    assert rawsql._prepared_forms("SELECT 'a%%b'", "raw_10") == (None, None)
    assert rawsql._prepared_forms("SELECT 1", "raw_11") == (
        "PREPARE raw_11 AS SELECT 1",
        "EXECUTE raw_11",
    )


def _backend_pid(raw: RawConnection) -> int:
    raw._cursor.execute("SELECT pg_backend_pid()")
    return raw._cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="terminating a server connection needs PostgreSQL (TEST_DATABASE_URL)",
)
def test_a_held_connection_the_server_dropped_is_replaced_after_one_failed_request(tables):
    with RawConnection(tables) as raw:
        first = _backend_pid(raw)
    with tables.connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    # The held connection is dead: this request fails (the fast path then hands it to Flask)...
    with pytest.raises(tables.dialect.dbapi.Error), RawConnection(tables) as raw:
        raw.read(Read(BY_ID, {"id": "a"}))
    # ...and the next one runs on a fresh connection from the pool.
    with RawConnection(tables) as raw:
        assert raw.read(Read(BY_ID, {"id": "a"})) == [("a", 2)]
        assert _backend_pid(raw) != first
