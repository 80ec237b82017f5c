"""Test set-up: the schema comes from the Alembic migrations, on SQLite or on PostgreSQL.

Set TEST_DATABASE_URL (a PostgreSQL URL) to run the whole suite there; otherwise a fresh SQLite
file is used. Under pytest-xdist (`-n 2`) every worker has its own database: its own SQLite file,
or on PostgreSQL a database `<name>_<worker>` (e.g. `coproduction_gw0`) made on the server of
TEST_DATABASE_URL and dropped when the worker ends.

Isolation. A test that uses the app runs inside one outer transaction on one connection that
is rolled back at its end (the indico pattern): `db.session` is bound to that connection and
its commits and rollbacks become savepoints (`join_transaction_mode="create_savepoint"`), so
ordinary tests may commit as they like and leave nothing behind, without a wipe of every table.

Opt-out: `@pytest.mark.real_commits` (or `pytestmark = pytest.mark.real_commits` for a module)
for a test whose work runs on other connections than the session's: threads (each with its own
app context and connection), a second real connection (a raw DBAPI connection, a connection
that plays another worker, schema inspection), a second app (`create_app(...)` in the test:
`db.session` is the test's for every app). Such a test commits for real and every table is
emptied after it, as before.

Meanwhile `db.engine.connect()` lends the test's own connection, so code that reads through it
(the certification registry) needs no marker; a borrower's rollback is refused with a message
naming the marker, and so is any other checkout from the app's pool (a second connection would
not see the test's uncommitted rows, and on SQLite a second writer would wait for ever). Threads
and other apps are not detected: mark them. The browser tests (tests/browser: a server
subprocess on its own database) use no `app` fixture and need no marker; under xdist they run
together on one worker (`--dist loadgroup`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("CERTIFICATE_KEY_SECRET", "test-certificate-key-secret-0123456789")

pytest_plugins = [
    "tests.fixtures.core",
    "tests.fixtures.identity",
    "tests.fixtures.participation",
    "tests.fixtures.committees",
    "tests.fixtures.rewards",
    "tests.fixtures.certification",
    "tests.fixtures.notifications",
    "tests.fixtures.ministry",
]

REAL_COMMITS = "real_commits"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, the browser tests run on one worker, so that one server
    subprocess and one Chromium serve them all."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


def _worker() -> str | None:
    """The pytest-xdist worker's name (gw0, gw1...), or None without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


def _worker_postgres_url(url: str, worker: str) -> str:
    """Make (anew) the worker's own database on the server of `url` and return its URL."""
    parsed = sa.engine.make_url(url)
    name = f"{parsed.database}_{worker}"
    server = sa.create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    server = sa.create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
    )
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    server.dispose()


def _reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test database (the worker's own under xdist), emptied and migrated once per run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        # tmp_path_factory's base directory is already per xdist worker.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    worker = _worker()
    if worker is None:
        _reset_postgres_schema(url)
        yield url
        return
    own = _worker_postgres_url(url, worker)
    yield own
    _drop_postgres_database(own)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app, on a schema built by running every migration."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.extensions import db

    os.environ["INSTANCE_DIR"] = str(tmp_path_factory.mktemp("instance"))
    application = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            # A cheap Argon2 profile: the KDF is exercised, the suite stays fast.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8,
            "ARGON2_PARALLELISM": 1,
        }
    )
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        # Close the pool before a worker's PostgreSQL database is dropped.
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _database_isolation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Roll back whatever a test that touches the app wrote (see the module docstring)."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    if request.node.get_closest_marker(REAL_COMMITS):
        yield
        _wipe(application)
        return
    with _rolled_back(application, request.node.nodeid):
        yield


@contextmanager
def _rolled_back(application: Flask, nodeid: str) -> Iterator[None]:
    """Bind `db.session` to one connection in a transaction that is rolled back at the end."""
    from flask_sqlalchemy.session import Session

    from backend.extensions import db

    class JoinedSession(Session):
        """Flask-SQLAlchemy's session picks the app's engine; this one uses the test's
        connection (its `bind`), where commits are savepoints of the outer transaction."""

        def get_bind(self, *_args: Any, **_kwargs: Any) -> sa.Connection:
            return self.bind

    with application.app_context():
        engine = db.engine
    connection = engine.connect()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # pysqlite begins a transaction only before a write and would commit it at a
        # SAVEPOINT's release: the transaction is begun by hand, in driver autocommit mode.
        connection.connection.dbapi_connection.isolation_level = None
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")

    def refuse_second_connection(*_args: Any) -> None:
        raise RuntimeError(
            f"{nodeid} opened a second database connection, which cannot see the test's "
            "uncommitted rows: mark the test @pytest.mark.real_commits (see tests/conftest.py)"
        )

    # `engine.connect()` lends the test's connection (the certification registry reads through
    # it); any other way to a second connection of the pool is refused.
    engine.connect = lambda: _LentConnection(connection)
    sa.event.listen(engine.pool, "checkout", refuse_second_connection)
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield
    finally:
        joined, db.session = db.session, original
        with application.app_context():
            joined.remove()  # those of the test's own app contexts went when they ended
        sa.event.remove(engine.pool, "checkout", refuse_second_connection)
        del engine.connect
        transaction.rollback()
        if sqlite:
            connection.connection.dbapi_connection.isolation_level = ""
        connection.close()


class _LentConnection:
    """What `engine.connect()` gives during an isolated test: the test's own connection, for
    readers (the certification registry). Leaving its `with` does not close it; `commit` is a
    no-op (the borrower's writes stay in the test's transaction, seen at once by the session),
    and `rollback` is refused: a test whose code needs its own transaction is `real_commits`."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __enter__(self) -> _LentConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def commit(self) -> None:
        return None

    def close(self) -> None:
        return None

    def rollback(self) -> None:
        raise RuntimeError(
            "code rolled back a connection lent by the test isolation: mark the test "
            "@pytest.mark.real_commits (see tests/conftest.py)"
        )


def _wipe(application: Flask) -> None:
    """Empty every table (after a `real_commits` test)."""
    from backend.extensions import db

    with application.app_context():
        db.session.remove()
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(sa.text(f"TRUNCATE {names} CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())
