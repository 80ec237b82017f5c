"""Bare Flask apps: the baselines the platform's endpoints are compared against.

* ``bench.bare_app:app`` -- hello-world: ``GET /hello`` answers 200 ``{"ok": true}``.
* ``bench.bare_app:create_insert_app()`` -- "insert one row": ``POST /insert`` with a JSON body
  inserts one row with plain ``sqlite3`` / ``psycopg2`` (no ORM, no validation, no auth) into the
  database named by ``BENCH_DATABASE_URL`` and answers 201 ``{"id": <new id>}``. It also serves
  ``GET /hello`` for the health check. This is the floor for any write scenario: "record a
  participation over HTTP" can never be faster than one bare insert and commit.

Environment of the insert app:

``BENCH_DATABASE_URL``
    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``postgresql://user:pass@127.0.0.1/db`` (``postgres://`` and ``postgresql+psycopg2://`` too).
``BENCH_TABLE``
    table name, default ``bench_rows``; created if missing.
``BENCH_SQLITE_SYNCHRONOUS``
    SQLite ``PRAGMA synchronous`` value, default ``NORMAL`` (with WAL). Set ``FULL`` to compare
    against an app that uses full durability.

These apps must stay minimal: any work added here makes every ratio look better than it is.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, request

DEFAULT_TABLE = "bench_rows"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict[str, bool]:
    """Answer the smallest useful JSON document."""
    return {"ok": True}


# --------------------------------------------------------------------------------------------
# "insert one row" baseline


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``BENCH_DATABASE_URL``: either a SQLite file path or a libpq URL."""

    kind: str  # "sqlite" or "postgresql"
    target: str  # file path for SQLite, libpq URL for PostgreSQL

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        """Parse a SQLAlchemy-style URL into what ``sqlite3`` / ``psycopg2`` accept."""
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///") :]
            if not path or path == ":memory:":
                raise ValueError("the insert baseline needs a SQLite file shared by the workers")
            return cls("sqlite", path)
        for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return cls("postgresql", "postgresql://" + url[len(prefix) :])
        raise ValueError(f"unsupported BENCH_DATABASE_URL scheme: {url.split(':', 1)[0]!r}")


def _check_table(table: str) -> str:
    if not _IDENTIFIER.match(table):
        raise ValueError(f"invalid table name: {table!r}")
    return table


def _create_sql(table: str, kind: str) -> str:
    # INTEGER PRIMARY KEY is SQLite's rowid alias (no AUTOINCREMENT bookkeeping); identity column
    # on PostgreSQL. DOUBLE PRECISION and TEXT are understood by both.
    pk = (
        "INTEGER PRIMARY KEY"
        if kind == "sqlite"
        else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (id {pk}, subject TEXT NOT NULL, "
        "payload TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)"
    )


def connect(db: DatabaseURL) -> Any:
    """Open one connection, configured as the bare insert endpoint uses it."""
    if db.kind == "sqlite":
        conn = sqlite3.connect(db.target, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        synchronous = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "NORMAL").upper()
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"invalid BENCH_SQLITE_SYNCHRONOUS: {synchronous!r}")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn
    import psycopg2  # imported lazily: the hello-world app must not pay for it

    return psycopg2.connect(db.target)


def ensure_table(url: str, table: str = DEFAULT_TABLE, *, empty: bool = False) -> None:
    """Create the insert table if missing (and delete its rows when ``empty``).

    Safe to call from several processes at once: a concurrent ``CREATE TABLE IF NOT EXISTS``
    race on PostgreSQL is caught and ignored.
    """
    db = DatabaseURL.parse(url)
    table = _check_table(table)
    conn = connect(db)
    try:
        cur = conn.cursor()
        try:
            cur.execute(_create_sql(table, db.kind))
            conn.commit()
        except Exception:
            conn.rollback()
            if db.kind == "sqlite":
                raise
            # Another worker created it between our check and our insert into the catalog.
            cur = conn.cursor()
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone()[0] is None:
                raise
        if empty:
            cur.execute(f"DELETE FROM {table}")
            conn.commit()
    finally:
        conn.close()


def count_rows(url: str, table: str = DEFAULT_TABLE) -> int:
    """Return the number of rows in the insert table (for checks after a run)."""
    db = DatabaseURL.parse(url)
    conn = connect(db)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {_check_table(table)}")
        return int(cur.fetchone()[0])
    finally:
        conn.close()


def create_insert_app() -> Flask:
    """Build the bare "insert one row" app (gunicorn spec ``bench.bare_app:create_insert_app()``).

    One connection per worker thread, opened on first use (after gunicorn forked the worker).
    """
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise RuntimeError("BENCH_DATABASE_URL is not set")
    db = DatabaseURL.parse(url)
    table = _check_table(os.environ.get("BENCH_TABLE", DEFAULT_TABLE))
    ensure_table(url, table)

    if db.kind == "sqlite":
        insert_sql = f"INSERT INTO {table} (subject, payload, created_at) VALUES (?, ?, ?)"
    else:
        insert_sql = (
            f"INSERT INTO {table} (subject, payload, created_at) VALUES (%s, %s, %s) RETURNING id"
        )
    local = threading.local()
    insert_app = Flask(__name__)

    def connection() -> Any:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = connect(db)
        return conn

    @insert_app.get("/hello")
    def insert_hello() -> dict[str, bool]:
        return {"ok": True}

    @insert_app.post("/insert")
    def insert() -> tuple[dict[str, int], int]:
        body = request.get_json(silent=True) or {}
        subject = str(body.get("subject", "anonymous")) if isinstance(body, dict) else "anonymous"
        conn = connection()
        cur = conn.cursor()
        try:
            cur.execute(insert_sql, (subject, json.dumps(body), time.time()))
            new_id = cur.lastrowid if db.kind == "sqlite" else cur.fetchone()[0]
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        return {"id": int(new_id)}, 201

    return insert_app
