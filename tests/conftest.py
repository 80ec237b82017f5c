"""Test set-up: the schema comes from the Alembic migrations, on SQLite or on PostgreSQL.

Set TEST_DATABASE_URL (a PostgreSQL URL) to run the whole suite there; otherwise a fresh SQLite
file is used. Every test starts from empty tables; tests may commit (and use threads), since
rows are wiped after each test rather than hidden in a rolled-back transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

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


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def _reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, emptied and migrated once per run."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    if url.startswith("postgresql"):
        _reset_postgres_schema(url)
    return url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """The app, on a schema built by running every migration."""
    from flask_migrate import upgrade

    from backend import create_app

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
    return application


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give every test that touches the app an empty database, whatever it committed."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
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
