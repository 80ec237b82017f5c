"""The physical limit of a write path: a minimal raw-SQL WSGI app doing the same work.

``record_app`` answers ``POST /api/v1/activities/<id>/participations`` (an official records a
citizen) with no framework and no ORM: one DBAPI connection per process, hand-written SQL, the
same reads (the caller's session and role, the Idempotency-Key, the activity and its project,
the citizen and any earlier record) and the same rows as the real app (the seat counter, the
participation, its audit entry, one notification event, the stored answer), in one transaction.
It checks the bearer token with PyJWT like the app, and refuses nothing the benchmark does not
send: it is the floor the real app is measured against (``participation-record-limit``), never a
second implementation to deploy.

The database is ``BENCH_LIMIT_DATABASE_URL`` (``sqlite:///...`` or ``postgresql://...``), a
schema made by the app's migrations (see bench.scenarios.participation_record.prepare_app).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import jwt

_PATH = re.compile(r"^/api/v1/activities/([0-9A-Z]{26})/participations$")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

_PARTICIPATION = (
    "id, municipality_id, user_id, activity_id, project_id, stage_id, stage, "
    "activity_starts_at, status, hours, registered_at, attended_at, decided_at, decided_by, "
    "rejection_reason, recorded_by"
)


def _new_id() -> str:
    """A ULID-shaped id (time first), as backend.ids makes them."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


class _Database:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            import sqlite3

            self.connection = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute("PRAGMA busy_timeout=30000")
            self.mark, self.begin_write = "?", "BEGIN IMMEDIATE"
            self.sqlite = True
        else:
            import psycopg2

            dsn = url.replace("postgresql+psycopg2://", "postgresql://")
            self.connection = psycopg2.connect(dsn)
            self.mark, self.begin_write = "%s", None
            self.sqlite = False
        self.statements = 0

    def sql(self, text: str) -> str:
        return text.replace("?", self.mark)

    def one(self, cursor: Any, text: str, params: tuple) -> tuple | None:
        self.statements += 1
        cursor.execute(self.sql(text), params)
        return cursor.fetchone()

    def run(self, cursor: Any, text: str, params: tuple) -> int:
        self.statements += 1
        cursor.execute(self.sql(text), params)
        return cursor.rowcount

    def stamp(self, value: datetime) -> Any:
        # SQLite keeps SQLAlchemy's text form; PostgreSQL takes the datetime itself.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value


def _json(start_response: Callable, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]


def create_record_app() -> Callable:
    """The WSGI app (gunicorn: ``bench.limit_apps:create_record_app()``)."""
    secret = os.environ["SECRET_KEY"]
    url = os.environ["BENCH_LIMIT_DATABASE_URL"]
    state: dict[str, Any] = {}
    verified: dict[str, dict[str, Any]] = {}

    def database() -> _Database:
        # One connection per worker process, made after gunicorn forks.
        if state.get("pid") != os.getpid():
            state["db"], state["pid"] = _Database(url), os.getpid()
        return state["db"]

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        match = _PATH.match(environ["PATH_INFO"])
        if match is None or environ["REQUEST_METHOD"] != "POST":
            return _json(start_response, "404 Not Found", {"error": "not found"})
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        body = json.loads(raw)
        token = environ.get("HTTP_AUTHORIZATION", "").split()[-1]
        claims = verified.get(token)
        if claims is None:
            claims = verified[token] = jwt.decode(token, secret, algorithms=["HS256"])
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        activity_id, user_id, now = match.group(1), body["user_id"], datetime.now(UTC)
        db = database()
        cursor = db.connection.cursor()
        try:
            caller = db.one(
                cursor,
                "SELECT u.role, u.municipality_id, u.is_active, u.deleted_at, s.revoked_at, "
                "s.expires_at FROM auth_sessions s JOIN users u ON u.id = s.user_id "
                "WHERE s.id = ? AND u.id = ?",
                (claims["sid"], claims["sub"]),
            )
            if caller is None or caller[0] != "official" or caller[4] is not None:
                db.connection.rollback()
                return _json(start_response, "401 Unauthorized", {"error": "token"})
            scope = f"user:{claims['sub']}"
            if key and db.one(
                cursor,
                "SELECT id FROM idempotency_records WHERE scope = ? AND key = ?",
                (scope, key),
            ):
                db.connection.rollback()
                return _json(start_response, "409 Conflict", {"error": "key"})
            activity = db.one(
                cursor,
                "SELECT a.municipality_id, a.project_id, a.stage_id, a.stage, a.starts_at, "
                "a.title, p.status FROM activities a JOIN projects p ON p.id = a.project_id "
                "WHERE a.id = ?",
                (activity_id,),
            )
            citizen = db.one(
                cursor,
                "SELECT u.role, u.municipality_id, u.is_active, u.deleted_at, p.id "
                "FROM users u LEFT JOIN participations p ON p.user_id = u.id "
                "AND p.activity_id = ? WHERE u.id = ?",
                (activity_id, user_id),
            )
            if activity is None or citizen is None or citizen[4] is not None:
                db.connection.rollback()
                return _json(start_response, "409 Conflict", {"error": "state"})
            municipality_id, project_id, stage_id, stage, starts_at, title, _ = activity
            if db.begin_write:  # SQLite: take the writer's turn for the writes only
                cursor.execute(db.begin_write)
            if not db.run(
                cursor,
                "UPDATE activities SET registered_count = registered_count + 1 WHERE id = ? "
                "AND (capacity IS NULL OR registered_count < capacity)",
                (activity_id,),
            ):
                db.connection.rollback()
                return _json(start_response, "409 Conflict", {"error": "full"})
            participation_id, stamp = _new_id(), db.stamp(now)
            db.run(
                cursor,
                f"INSERT INTO participations ({_PARTICIPATION}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL, NULL, NULL, ?)",
                (
                    participation_id, municipality_id, user_id, activity_id, project_id,
                    stage_id, stage, starts_at, "registered", stamp, claims["sub"],
                ),
            )  # fmt: skip
            db.run(
                cursor,
                "INSERT INTO audit_log (id, actor_id, actor_role, municipality_id, action, "
                "target_type, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _new_id(), claims["sub"], "official", municipality_id,
                    "participation.record", "participation", participation_id,
                    json.dumps({"activity_id": activity_id, "user_id": user_id,
                                "status": "registered"}),
                    stamp,
                ),
            )  # fmt: skip
            event = {
                "participation_id": participation_id, "user_id": user_id,
                "municipality_id": municipality_id, "project_id": project_id,
                "activity_id": activity_id, "activity_title": title,
                "starts_at": {"$datetime": str(starts_at)}, "status": "registered",
                "actor_id": claims["sub"],
            }  # fmt: skip
            db.run(
                cursor,
                "INSERT INTO notification_events (id, kind, payload, created_at) "
                "VALUES (?, ?, ?, ?)",
                (_new_id(), "participation.recorded", json.dumps(event), stamp),
            )
            answer = {
                "id": participation_id, "activity_id": activity_id, "user_id": user_id,
                "status": "registered", "stage": stage, "hours": None,
                "registered_at": now.isoformat(), "attended_at": None, "decided_at": None,
            }  # fmt: skip
            data = (json.dumps(answer, separators=(",", ":")) + "\n").encode()
            if key:
                fingerprint = hashlib.sha256(
                    b"POST\0" + environ["PATH_INFO"].encode() + b"?\0" + raw
                ).hexdigest()
                db.run(
                    cursor,
                    "INSERT INTO idempotency_records (id, scope, key, fingerprint, status_code, "
                    "content_type, location, body, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                    (_new_id(), scope, key, fingerprint, 201, "application/json", data, stamp),
                )
            db.connection.commit()
        except BaseException:
            db.connection.rollback()
            raise
        finally:
            cursor.close()
        start_response(
            "201 CREATED",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    return app
