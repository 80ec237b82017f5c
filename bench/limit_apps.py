"""The physical limit of a write path: a minimal raw-SQL WSGI app doing the same work.

One app per write path, each refusing nothing the benchmark does not send: the floor the real
app is measured against, never a second implementation to deploy. They share the frame
(:func:`_serve`): the bearer token checked with PyJWT (verified tokens kept per process, as the
app keeps its session check), the caller's session and user read, the Idempotency-Key looked
up and the answer stored under it, one transaction.

``create_record_app`` answers ``POST /api/v1/activities/<id>/participations`` (an official records a
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

import base64
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

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
        self.keys = _TicketKeys()

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

    def begin(self, cursor: Any) -> None:
        """SQLite: take the writer's turn (reads before it ran in autocommit)."""
        if self.begin_write:
            cursor.execute(self.begin_write)

    def stamp(self, value: datetime) -> Any:
        # SQLite keeps SQLAlchemy's text form; PostgreSQL takes the datetime itself.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value


def _json(start_response: Callable, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]


class _Refused(Exception):
    """An answer other than the path's success (the transaction is rolled back)."""

    def __init__(self, status: str, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


#: (status line, answer) of a path's work, given (db, cursor, claims, caller, route match, body,
#: now); the caller row is (role, municipality_id, is_active, deleted_at, revoked_at, expires_at).
Work = Callable[..., tuple[str, dict[str, Any]]]


def _serve(route: re.Pattern[str], work: Work) -> Callable:
    """A WSGI app answering ``POST route`` with ``work`` in the shared frame."""
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
        match = route.match(environ["PATH_INFO"])
        if match is None or environ["REQUEST_METHOD"] != "POST":
            return _json(start_response, "404 Not Found", {"error": "not found"})
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        body = json.loads(raw or b"{}")
        token = environ.get("HTTP_AUTHORIZATION", "").split()[-1]
        claims = verified.get(token)
        if claims is None:
            claims = verified[token] = jwt.decode(token, secret, algorithms=["HS256"])
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
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
            if caller is None or caller[4] is not None:
                raise _Refused("401 Unauthorized", "token")
            scope = f"user:{claims['sub']}"
            if key and db.one(
                cursor,
                "SELECT id FROM idempotency_records WHERE scope = ? AND key = ?",
                (scope, key),
            ):
                raise _Refused("409 Conflict", "key")
            now = datetime.now(UTC)
            status, answer = work(db, cursor, claims, caller, match, body, now)
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
                    (_new_id(), scope, key, fingerprint, int(status[:3]), "application/json",
                     data, db.stamp(now)),
                )  # fmt: skip
            db.connection.commit()
        except _Refused as refused:
            db.connection.rollback()
            return _json(start_response, refused.status, {"error": refused.error})
        except BaseException:
            db.connection.rollback()
            raise
        finally:
            cursor.close()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    return app


def _insert_participation(db: _Database, cursor: Any, values: tuple) -> None:
    db.run(
        cursor,
        f"INSERT INTO participations ({_PARTICIPATION}) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
        values,
    )


def _take_seat(db: _Database, cursor: Any, activity_id: str) -> None:
    if not db.run(
        cursor,
        "UPDATE activities SET registered_count = registered_count + 1 WHERE id = ? "
        "AND (capacity IS NULL OR registered_count < capacity)",
        (activity_id,),
    ):
        raise _Refused("409 Conflict", "full")


def _event(db: _Database, cursor: Any, kind: str, payload: dict[str, Any], now: datetime) -> None:
    db.run(
        cursor,
        "INSERT INTO notification_events (id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
        (_new_id(), kind, json.dumps(payload, default=str), db.stamp(now)),
    )


def _record(db, cursor, claims, caller, match, body, now) -> tuple[str, dict[str, Any]]:
    """An official records a citizen: activity and project, citizen and earlier record; seat,
    participation, audit entry, one event row."""
    if caller[0] != "official":
        raise _Refused("403 Forbidden", "role")
    activity_id, user_id = match.group(1), body["user_id"]
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
        raise _Refused("409 Conflict", "state")
    municipality_id, project_id, stage_id, stage, starts_at, title, _ = activity
    db.begin(cursor)
    _take_seat(db, cursor, activity_id)
    participation_id, stamp = _new_id(), db.stamp(now)
    _insert_participation(
        db,
        cursor,
        (participation_id, municipality_id, user_id, activity_id, project_id, stage_id, stage,
         starts_at, "registered", None, stamp, None, None, None, claims["sub"]),
    )  # fmt: skip
    db.run(
        cursor,
        "INSERT INTO audit_log (id, actor_id, actor_role, municipality_id, action, "
        "target_type, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (_new_id(), claims["sub"], "official", municipality_id, "participation.record",
         "participation", participation_id,
         json.dumps({"activity_id": activity_id, "user_id": user_id, "status": "registered"}),
         stamp),
    )  # fmt: skip
    _event(
        db,
        cursor,
        "participation.recorded",
        {"participation_id": participation_id, "user_id": user_id,
         "municipality_id": municipality_id, "project_id": project_id,
         "activity_id": activity_id, "activity_title": title,
         "starts_at": {"$datetime": str(starts_at)}, "status": "registered",
         "actor_id": claims["sub"]},
        now,
    )  # fmt: skip
    return "201 CREATED", {
        "id": participation_id, "activity_id": activity_id, "project_id": project_id,
        "user_id": user_id, "status": "registered", "stage": stage, "hours": None,
        "registered_at": now.isoformat(), "attended_at": None, "decided_at": None,
        "rejection_reason": None,
    }  # fmt: skip


def _join(db, cursor, claims, caller, match, body, now) -> tuple[str, dict[str, Any]]:
    """A citizen joins: the activity, its project's status, its assurance requirement and any
    earlier record in one read; seat and participation."""
    if caller[0] != "citizen":
        raise _Refused("403 Forbidden", "role")
    activity_id, user_id = match.group(1), claims["sub"]
    activity = db.one(
        cursor,
        "SELECT a.municipality_id, a.project_id, a.stage_id, a.stage, a.starts_at, a.ends_at, "
        "p.status, (SELECT level FROM assurance_requirements r WHERE r.target_type = "
        "'activity' AND r.target_id = a.id), (SELECT id FROM participations x WHERE "
        "x.activity_id = a.id AND x.user_id = ?) FROM activities a JOIN projects p "
        "ON p.id = a.project_id WHERE a.id = ?",
        (user_id, activity_id),
    )
    if activity is None or activity[0] != caller[1] or activity[6] != "active":
        raise _Refused("404 Not Found", "activity")
    if activity[7] is not None or activity[8] is not None:
        raise _Refused("409 Conflict", "state")
    municipality_id, project_id, stage_id, stage, starts_at = activity[:5]
    db.begin(cursor)
    _take_seat(db, cursor, activity_id)
    participation_id, stamp = _new_id(), db.stamp(now)
    _insert_participation(
        db,
        cursor,
        (participation_id, municipality_id, user_id, activity_id, project_id, stage_id, stage,
         starts_at, "registered", None, stamp, None, None, None, None),
    )  # fmt: skip
    return "201 CREATED", {
        "id": participation_id, "activity_id": activity_id, "project_id": project_id,
        "user_id": user_id, "status": "registered", "stage": stage, "hours": None,
        "registered_at": now.isoformat(), "attended_at": None, "decided_at": None,
        "rejection_reason": None,
    }  # fmt: skip


_TICKET_MARGIN = timedelta(hours=2)  # backend.committees.models.CHECK_IN_MARGIN
_TICKET_CLAIMS = frozenset({"m", "r", "s", "nb", "e"})
_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_RFC6979 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(data) != text:  # the app refuses non-canonical segments too
        raise ValueError("not canonical base64url")
    return data


def _moment(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite returns text without an offset)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _TicketKeys:
    """The deployment's certificate signing keys, read once per process from
    ``certificate_signing_keys`` as the app's registry does: the active private key (decrypted
    with ``CERTIFICATE_KEY_SECRET``, by the app's own at-rest code) and every public key."""

    def __init__(self) -> None:
        self.active: tuple[str, str, ec.EllipticCurvePrivateKey] | None = None
        self.public: dict[str, ec.EllipticCurvePublicKey] = {}

    def load(self, cursor: Any) -> None:
        from backend.certification.keys import (
            decrypt_private_key,
            derive_master_key,
            public_key_from_jwk,
        )

        master_key = derive_master_key(os.environ["CERTIFICATE_KEY_SECRET"])
        cursor.execute("SELECT kid, status, public_jwk, encrypted_private_key FROM "
                       "certificate_signing_keys")  # fmt: skip
        for kid, status, jwk, blob in cursor.fetchall():
            self.public[kid] = public_key_from_jwk(json.loads(jwk) if isinstance(jwk, str) else jwk)
            if status == "active":
                header = {"alg": "ES256", "kid": kid, "typ": "mt"}
                private_key = decrypt_private_key(blob, master_key=master_key, kid=kid)
                self.active = (kid, _b64url(json.dumps(header, separators=(",", ":")).encode()),
                               private_key)  # fmt: skip

    def sign(self, cursor: Any, claims: dict[str, Any]) -> str:
        """``MT2:`` + the compact ES256 JWS of the claims, RFC 6979 (the app's exact text)."""
        if self.active is None:
            self.load(cursor)
        assert self.active is not None, "no active signing key (the bench makes one)"
        _kid, header, private_key = self.active
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        signing_input = f"{header}.{_b64url(payload)}"
        r, s = decode_dss_signature(private_key.sign(signing_input.encode(), _ECDSA_RFC6979))
        return f"MT2:{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def public_key(self, cursor: Any, kid: str) -> ec.EllipticCurvePublicKey | None:
        if kid not in self.public:
            self.load(cursor)  # a key made since (the app rereads its keys every 2 s)
        return self.public.get(kid)


def _ticket_claims(registration_id: str, meeting: tuple, confirmed: bool) -> dict[str, Any]:
    return {
        "m": meeting[0], "r": registration_id, "s": "c" if confirmed else "w",
        "nb": int((_moment(meeting[6]) - _TICKET_MARGIN).timestamp()),
        "e": int((_moment(meeting[7]) + _TICKET_MARGIN).timestamp()),
    }  # fmt: skip


def _scanned_ticket(text: str) -> tuple[dict[str, Any], str, bytes, bytes]:
    """(claims, kid, signing input, raw signature) of an ``MT2:`` ticket with the app's
    shape (header alg/kid/typ, exactly the five claims); ValueError otherwise."""
    text = text.strip()
    if not text.startswith("MT2:") or len(text) > 4 + 512:
        raise ValueError("not an MT2 ticket")
    header_segment, payload_segment, signature_segment = text[4:].split(".")
    header = json.loads(_unb64url(header_segment))
    claims = json.loads(_unb64url(payload_segment))
    signature = _unb64url(signature_segment)
    if header.keys() != {"alg", "kid", "typ"} or header["alg"] != "ES256" or header["typ"] != "mt":
        raise ValueError("not a ticket's header")
    if claims.keys() != _TICKET_CLAIMS or claims["s"] not in ("c", "w") or len(signature) != 64:
        raise ValueError("not a ticket's claims")
    if not all(isinstance(claims[n], int) for n in ("nb", "e")) or not all(
        isinstance(claims[n], str) and len(claims[n]) == 26 for n in ("m", "r")
    ):
        raise ValueError("not a ticket's claims")
    return claims, header["kid"], f"{header_segment}.{payload_segment}".encode(), signature


def _verify_es256(
    public_key: ec.EllipticCurvePublicKey | None, signing_input: bytes, raw: bytes
) -> bool:
    if public_key is None:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, signing_input, _ECDSA)
    except InvalidSignature:
        return False
    return True


def _meeting_brief(meeting: tuple) -> dict[str, Any]:
    return {
        "id": meeting[0], "committee_id": meeting[2], "title": meeting[5],
        "starts_at": str(meeting[6]), "ends_at": str(meeting[7]), "place": meeting[10],
        "online_url": None, "status": meeting[4],
    }  # fmt: skip


_MEETING = (
    "SELECT id, municipality_id, committee_id, project_id, status, title, starts_at, ends_at, "
    "capacity, reserved_seats, place, general_opens_at, stage FROM meetings WHERE id = ?"
)


def _register(db, cursor, claims, caller, match, body, now) -> tuple[str, dict[str, Any]]:
    """A citizen registers: the meeting locked; an earlier live registration, a committee term
    on the day, a valid certificate and the seats taken in one read; the registration and one
    event row."""
    if caller[0] != "citizen":
        raise _Refused("403 Forbidden", "role")
    meeting_id, user_id = match.group(1), claims["sub"]
    db.begin(cursor)  # SQLite: the writer's turn first, as the app's meeting lock
    meeting = db.one(cursor, _MEETING + ("" if db.sqlite else " FOR UPDATE"), (meeting_id,))
    if meeting is None or meeting[1] != caller[1]:
        raise _Refused("404 Not Found", "meeting")
    day = now.date()
    already, member, certified, confirmed, others = db.one(
        cursor,
        "SELECT (SELECT id FROM meeting_registrations WHERE meeting_id = ? AND user_id = ? "
        "AND status != 'cancelled'), (SELECT id FROM appointments WHERE committee_id = ? AND "
        "user_id = ? AND term_start <= ? AND effective_end >= ? LIMIT 1), (SELECT id FROM "
        "certificates WHERE user_id = ? AND status IN ('active', 'expired') AND kind = "
        "'model_citizen' LIMIT 1), (SELECT count(*) FROM meeting_registrations WHERE meeting_id "
        "= ? AND status = 'confirmed'), (SELECT count(*) FROM meeting_registrations WHERE "
        "meeting_id = ? AND status = 'confirmed' AND tier != 'member')",
        (meeting_id, user_id, meeting[2], user_id, day, day, user_id, meeting_id, meeting_id),
    )
    if already is not None:
        raise _Refused("409 Conflict", "already_registered")
    tier = "member" if member else "certified" if certified else "general"
    fits = confirmed < meeting[8] and (tier == "member" or others < meeting[8] - meeting[9])
    status = "confirmed" if fits else "waitlisted"
    registration_id, stamp = _new_id(), db.stamp(now)
    db.run(
        cursor,
        "INSERT INTO meeting_registrations (id, meeting_id, municipality_id, user_id, tier, "
        "priority, status, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (registration_id, meeting_id, meeting[1], user_id, tier,
         {"member": 0, "certified": 1, "general": 2}[tier], status, stamp,
         stamp if fits else None),
    )  # fmt: skip
    if fits:
        _event(
            db,
            cursor,
            "registration.confirmed",
            {"registration_id": registration_id, "meeting_id": meeting_id, "user_id": user_id,
             "municipality_id": meeting[1], "title": meeting[5],
             "starts_at": {"$datetime": str(meeting[6])}},
            now,
        )  # fmt: skip
    return "201 CREATED", {
        "id": registration_id, "meeting": _meeting_brief(meeting), "status": status,
        "tier": tier, "waitlist_position": None,
        "ticket": db.keys.sign(cursor, _ticket_claims(registration_id, meeting, fits)),
        "created_at": now.isoformat(),
        "confirmed_at": now.isoformat() if fits else None, "promoted_at": None,
        "cancelled_at": None, "checked_in_at": None,
    }  # fmt: skip


def _check_in(db, cursor, claims, caller, match, body, now) -> tuple[str, dict[str, Any]]:
    """A ticket's first scan: the meeting, the registration with its attendee, the ticket's
    ES256 signature and the meeting's check-in window; the registration checked in; the
    meeting's activity, stage and any record of the attendee in one read; the reward rules and
    certification criteria that may apply; seat, confirmed participation, stage counters,
    audit entry, one event row."""
    if caller[0] not in ("official", "scheduler"):
        raise _Refused("403 Forbidden", "role")
    meeting_id = match.group(1)
    meeting = db.one(cursor, _MEETING, (meeting_id,))
    if meeting is None or meeting[1] != caller[1]:
        raise _Refused("404 Not Found", "meeting")
    try:
        ticket, kid, signing_input, signature = _scanned_ticket(body["ticket"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _Refused("422 Unprocessable Entity", "ticket_invalid") from None
    registration = db.one(
        cursor,
        "SELECT r.id, r.meeting_id, r.user_id, r.status, r.tier, r.created_at, r.confirmed_at, "
        "u.display_name, u.role FROM meeting_registrations r JOIN users u ON u.id = r.user_id "
        "WHERE r.id = ?",
        (ticket["r"],),
    )
    # The app's check: signed for this registration's meeting, by a key of the deployment.
    if (
        registration is None
        or ticket["m"] != registration[1]
        or not _verify_es256(db.keys.public_key(cursor, kid), signing_input, signature)
    ):
        raise _Refused("422 Unprocessable Entity", "ticket_invalid")
    if registration[1] != meeting_id or registration[3] != "confirmed":
        raise _Refused("409 Conflict", "state")
    # The window from the meeting as it is now (the app's rule; the claims' nb/e are for
    # devices with no network).
    if not _moment(meeting[6]) - _TICKET_MARGIN <= now <= _moment(meeting[7]) + _TICKET_MARGIN:
        raise _Refused("409 Conflict", "check_in_not_open")
    user_id, stamp = registration[2], db.stamp(now)
    db.begin(cursor)
    if not db.run(
        cursor,
        "UPDATE meeting_registrations SET checked_in_at = ?, checked_in_by_id = ? "
        "WHERE id = ? AND checked_in_at IS NULL",
        (stamp, claims["sub"], registration[0]),
    ):
        raise _Refused("409 Conflict", "seen")  # the benchmark sends first scans only
    source_key = f"meeting:{meeting_id}"
    stage_id, activity_id, starts_at, existing = db.one(
        cursor,
        "SELECT s.id, a.id, a.starts_at, (SELECT x.id FROM participations x WHERE "
        "x.activity_id = a.id AND x.user_id = ?) FROM project_stages s LEFT JOIN activities a "
        "ON a.source_key = ? WHERE s.project_id = ? AND s.stage = ?",
        (user_id, source_key, meeting[3], meeting[12]),
    )
    if activity_id is None:  # the meeting's first scan: its activity, once (insert-or-get:
        # two workers may scan the meeting's first tickets at the same moment)
        db.run(
            cursor,
            "INSERT INTO activities (id, municipality_id, project_id, stage_id, stage, kind, "
            "title, description, starts_at, ends_at, registered_count, source_key, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, 'meeting', ?, '', ?, ?, 0, ?, ?, ?) "
            "ON CONFLICT (source_key) DO NOTHING",
            (_new_id(), meeting[1], meeting[3], stage_id, meeting[12], meeting[5][:200],
             meeting[6], meeting[7], source_key, claims["sub"], stamp),
        )  # fmt: skip
        activity_id, starts_at = db.one(
            cursor, "SELECT id, starts_at FROM activities WHERE source_key = ?", (source_key,)
        )
    if existing is not None:
        raise _Refused("409 Conflict", "state")
    db.one(
        cursor,
        "SELECT id FROM reward_rules WHERE municipality_id = ? AND is_active AND "
        "(stage IS NULL OR stage = ?) AND (activity_kind IS NULL OR activity_kind = 'meeting')",
        (meeting[1], meeting[12]),
    )
    db.one(
        cursor,
        "SELECT id FROM certification_criteria WHERE municipality_id = ? AND is_active "
        "AND auto_issue",
        (meeting[1],),
    )
    _take_seat(db, cursor, activity_id)
    participation_id = _new_id()
    _insert_participation(
        db,
        cursor,
        (participation_id, meeting[1], user_id, activity_id, meeting[3], stage_id, meeting[12],
         starts_at, "confirmed", 2.0, stamp, stamp, stamp, claims["sub"], claims["sub"]),
    )  # fmt: skip
    db.run(
        cursor,
        "UPDATE project_stages SET confirmed_count = confirmed_count + 1, "
        "confirmed_hours = confirmed_hours + ? WHERE id = ?",
        (2.0, stage_id),
    )
    db.run(
        cursor,
        "INSERT INTO audit_log (id, actor_id, actor_role, municipality_id, action, "
        "target_type, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (_new_id(), claims["sub"], caller[0], meeting[1], "participation.confirm",
         "participation", participation_id,
         json.dumps({"activity_id": activity_id, "user_id": user_id, "hours": 2.0,
                     "meeting_id": meeting_id}), stamp),
    )  # fmt: skip
    _event(
        db,
        cursor,
        "participation.confirmed",
        {"participation_id": participation_id, "user_id": user_id,
         "municipality_id": meeting[1], "project_id": meeting[3], "activity_id": activity_id,
         "stage": meeting[12], "activity_kind": "meeting", "hours": 2.0,
         "confirmed_at": {"$datetime": str(now)}, "actor_id": claims["sub"]},
        now,
    )  # fmt: skip
    return "200 OK", {
        "registration": {
            "id": registration[0], "meeting_id": meeting_id,
            "attendee": {"id": user_id, "display_name": registration[7]},
            "status": "confirmed", "tier": registration[4], "waitlist_position": None,
            "created_at": str(registration[5]), "confirmed_at": str(registration[6]),
            "promoted_at": None, "cancelled_at": None, "checked_in_at": now.isoformat(),
            "checked_in_by_id": claims["sub"],
        },
        "already_checked_in": False,
    }  # fmt: skip


_ID = "([0-9A-Z]{26})"


def create_record_app() -> Callable:
    """An official records a participation (gunicorn: ``bench.limit_apps:create_record_app()``)."""
    return _serve(re.compile(rf"^/api/v1/activities/{_ID}/participations$"), _record)


def create_join_app() -> Callable:
    """A citizen joins an activity."""
    return _serve(re.compile(rf"^/api/v1/activities/{_ID}/participations$"), _join)


def create_register_app() -> Callable:
    """A citizen registers for a meeting."""
    return _serve(re.compile(rf"^/api/v1/meetings/{_ID}/registrations$"), _register)


def create_check_in_app() -> Callable:
    """A ticket's first scan at the door."""
    return _serve(re.compile(rf"^/api/v1/meetings/{_ID}/check-in$"), _check_in)


# ---- the framework's floor --------------------------------------------------------------------


class _CoreDatabase(_Database):
    """The same statements through a SQLAlchemy Core connection (text, bound parameters)."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            # Autocommit reads and an explicit writer's turn, as the raw app (and the app) do.
            self.engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(connection: Any, _record: Any) -> None:
                for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                    connection.execute(f"PRAGMA {pragma}")

            self.begin_write = "BEGIN IMMEDIATE"
        else:
            self.engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://"))
            self.begin_write = None
        self.texts: dict[str, Any] = {}
        self.statements = 0

    def _text(self, text: str) -> Any:
        statement = self.texts.get(text)
        if statement is None:
            parts = text.split("?")
            named = "".join(f"{p}:p{i}" for i, p in enumerate(parts[:-1])) + parts[-1]
            statement = self.texts[text] = self.sa.text(named)
        return statement

    def one(self, cursor: Any, text: str, params: tuple) -> tuple | None:
        self.statements += 1
        row = cursor.execute(self._text(text), {f"p{i}": v for i, v in enumerate(params)})
        return row.first() if row.returns_rows else None

    def run(self, cursor: Any, text: str, params: tuple) -> int:
        self.statements += 1
        return cursor.execute(self._text(text), {f"p{i}": v for i, v in enumerate(params)}).rowcount

    def begin(self, cursor: Any) -> None:
        if self.begin_write:
            cursor.exec_driver_sql(self.begin_write)


def create_flask_core_record_app() -> Any:
    """The framework's floor for an official's record: bare Flask (no extension, no hooks) and
    SQLAlchemy Core running the raw app's statements (``_record``) on a pooled connection.
    Compared with ``create_record_app`` it shows what Flask and SQLAlchemy Core alone cost
    for the same work (scenario ``record-flask-core-floor``)."""
    from flask import Flask, Response, request

    secret = os.environ["SECRET_KEY"]
    db = _CoreDatabase(os.environ["BENCH_LIMIT_DATABASE_URL"])
    verified: dict[str, dict[str, Any]] = {}
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    @app.post("/api/v1/activities/<activity_id>/participations")
    def record(activity_id: str) -> Any:
        raw = request.get_data()
        body = request.get_json()
        token = request.headers.get("Authorization", "").split()[-1]
        claims = verified.get(token)
        if claims is None:
            claims = verified[token] = jwt.decode(token, secret, algorithms=["HS256"])
        key = request.headers.get("Idempotency-Key")
        with db.engine.connect() as connection:
            try:
                caller = db.one(
                    connection,
                    "SELECT u.role, u.municipality_id, u.is_active, u.deleted_at, s.revoked_at, "
                    "s.expires_at FROM auth_sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE s.id = ? AND u.id = ?",
                    (claims["sid"], claims["sub"]),
                )
                if caller is None or caller[4] is not None:
                    raise _Refused("401 Unauthorized", "token")
                scope = f"user:{claims['sub']}"
                if key and db.one(
                    connection,
                    "SELECT id FROM idempotency_records WHERE scope = ? AND key = ?",
                    (scope, key),
                ):
                    raise _Refused("409 Conflict", "key")
                now = datetime.now(UTC)
                match = re.match(r"(.*)", activity_id)
                status, answer = _record(db, connection, claims, caller, match, body, now)
                data = (json.dumps(answer, separators=(",", ":")) + "\n").encode()
                if key:
                    fingerprint = hashlib.sha256(
                        b"POST\0" + request.path.encode() + b"?\0" + raw
                    ).hexdigest()
                    db.run(
                        connection,
                        "INSERT INTO idempotency_records (id, scope, key, fingerprint, "
                        "status_code, content_type, location, body, created_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                        (_new_id(), scope, key, fingerprint, int(status[:3]),
                         "application/json", data, db.stamp(now)),
                    )  # fmt: skip
                if db.sqlite:
                    connection.exec_driver_sql("COMMIT")
                else:
                    connection.commit()
            except BaseException as error:
                if db.sqlite:
                    if connection.connection.dbapi_connection.in_transaction:
                        connection.exec_driver_sql("ROLLBACK")
                else:
                    connection.rollback()
                if isinstance(error, _Refused):
                    return {"error": error.error}, int(error.status[:3])
                raise
        return Response(data, status=int(status[:3]), content_type="application/json")

    return app
