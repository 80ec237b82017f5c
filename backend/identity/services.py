"""Identity services: sign-up, staff accounts, login sessions and user administration."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app

from backend import events
from backend.audit.services import save_and_audit
from backend.clock import seoul_date, utcnow
from backend.database import insert_or_nothing
from backend.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from backend.extensions import db
from backend.identity.models import (
    AuthSession,
    LoginThrottle,
    Municipality,
    User,
    account_usable,
)
from backend.identity.passwords import burn_verification_time, hash_password, verify_password
from backend.pagination import Page, paginate, where_given
from backend.permissions import MUNICIPAL_ROLES, Role, can_manage_users, scope_to_municipality
from backend.privacy.consents import record_consents
from backend.privacy.models import ConsentChannel

_PHONE_DIGITS = re.compile(r"\D")


def normalize_email(email: str | None) -> str | None:
    """Lower-case and trim an e-mail address (None stays None)."""
    return email.strip().lower() if email else None


def normalize_phone(phone: str | None) -> str | None:
    """Keep only the digits of a phone number (None stays None)."""
    return _PHONE_DIGITS.sub("", phone) if phone else None


# ---- municipalities -------------------------------------------------------------------------


def list_municipalities() -> list[Municipality]:
    """Every municipality, by name (public: the sign-up screen needs it)."""
    return list(db.session.scalars(sa.select(Municipality).order_by(Municipality.name)))


def get_municipality(municipality_id: str) -> Municipality:
    """One municipality by id."""
    municipality = db.session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("Municipality not found.", code="municipality_not_found")
    return municipality


def create_municipality(
    *, actor: User | None, code: str, name: str, region: str, name_en: str | None = None
) -> Municipality:
    """Register a municipality (admin or the seed command)."""
    if db.session.scalar(sa.select(Municipality.id).where(Municipality.code == code)):
        raise Conflict(
            "A municipality with this code exists.",
            code="municipality_exists",
            fields={"code": ["Already in use."]},
        )
    municipality = Municipality(code=code, name=name, name_en=name_en, region=region)
    save_and_audit(
        municipality,
        actor=actor,
        action="municipality.create",
        target_type="municipality",
        municipality_id=municipality.id,
        details={"code": code, "name": name},
    )
    return municipality


# ---- accounts -------------------------------------------------------------------------------


def _ensure_login_is_free(email: str | None, phone: str | None) -> None:
    clauses = []
    if email:
        clauses.append(User.email == email)
    if phone:
        clauses.append(User.phone == phone)
    if clauses and db.session.scalar(sa.select(User.id).where(sa.or_(*clauses)).limit(1)):
        raise Conflict("An account with this e-mail or phone exists.", code="account_exists")


def _new_user(
    *,
    role: Role,
    email: str | None,
    phone: str | None,
    password: str,
    display_name: str,
    municipality_id: str | None,
    locale: str,
) -> User:
    email, phone = normalize_email(email), normalize_phone(phone)
    if not email and not phone:
        raise ValidationFailed(
            "Give an e-mail address or a phone number.",
            code="login_required",
            fields={
                "email": ["Give an e-mail or a phone."],
                "phone": ["Give an e-mail or a phone."],
            },
        )
    _ensure_login_is_free(email, phone)
    user = User(
        role=role,
        email=email,
        phone=phone,
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        municipality_id=municipality_id,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def register_citizen(
    *,
    email: str | None,
    phone: str | None,
    password: str,
    display_name: str,
    municipality_id: str,
    birth_year: int,
    consents: list[dict[str, Any]],
    consent_channel: ConsentChannel = ConsentChannel.APP,
    locale: str = "ko",
) -> User:
    """A citizen signs up for their municipality, with their consents per purpose."""
    get_municipality(municipality_id)
    if birth_year > seoul_date(utcnow()).year:
        raise ValidationFailed(
            "The birth year is in the future.",
            code="validation_failed",
            fields={"birth_year": ["Not a valid year."]},
        )
    user = _new_user(
        role=Role.CITIZEN,
        email=email,
        phone=phone,
        password=password,
        display_name=display_name,
        municipality_id=municipality_id,
        locale=locale,
    )
    user.birth_year = birth_year
    record_consents(user=user, decisions=consents, channel=consent_channel, signup=True)
    return user


def _check_role_placement(role: Role, municipality_id: str | None) -> None:
    """Municipal roles need a municipality; national roles must not have one."""
    if role in MUNICIPAL_ROLES and not municipality_id:
        raise ValidationFailed(
            "This role belongs to a municipality.",
            code="municipality_required",
            fields={"municipality_id": ["Required for this role."]},
        )
    if role not in MUNICIPAL_ROLES and municipality_id:
        raise ValidationFailed(
            "This role is national.",
            code="municipality_not_allowed",
            fields={"municipality_id": ["Must be empty for this role."]},
        )
    if municipality_id:
        get_municipality(municipality_id)


def create_staff_user(
    *,
    actor: User | None,
    role: Role,
    email: str | None,
    phone: str | None,
    password: str,
    display_name: str,
    municipality_id: str | None,
    locale: str = "ko",
) -> User:
    """An admin (or the CLI, with no actor) creates a staff account."""
    if actor is not None and not can_manage_users(actor):
        raise PermissionDenied("Only admins create staff accounts.")
    _check_role_placement(role, municipality_id)
    user = _new_user(
        role=role,
        email=email,
        phone=phone,
        password=password,
        display_name=display_name,
        municipality_id=municipality_id,
        locale=locale,
    )
    save_and_audit(
        user,
        actor=actor,
        action="user.create",
        target_type="user",
        municipality_id=municipality_id,
        details={"role": role.value},
    )
    return user


def get_user_for(*, viewer: User, user_id: str) -> User:
    """A user as seen by staff: admins and analysts see all, officials their municipality."""
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("User not found.", code="user_not_found")
    query = scope_to_municipality(sa.select(User.id).where(User.id == user_id), User, viewer)
    if db.session.scalar(query) is None:
        raise NotFound("User not found.", code="user_not_found")
    return user


def list_users(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    role: Role | None = None,
    municipality_id: str | None = None,
    q: str | None = None,
) -> Page:
    """Users the viewer may see, newest first; `q`: exact e-mail or phone, or a name's start."""
    query = scope_to_municipality(sa.select(User).where(User.deleted_at.is_(None)), User, viewer)
    if q:
        q = q.strip()
        if "@" in q:
            query = query.where(User.email == normalize_email(q))
        elif normalize_phone(q) and len(normalize_phone(q) or "") >= 7:
            query = query.where(User.phone == normalize_phone(q))
        else:
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(User.display_name.like(f"{escaped}%", escape="\\"))
    query = where_given(
        query,
        {
            User.role: role,
            User.municipality_id: municipality_id,
        },
    )
    return paginate(query, User.id, limit=limit, cursor=cursor)


def update_user(
    *,
    actor: User,
    user: User,
    role: Role | None = None,
    is_active: bool | None = None,
    municipality_id: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change a user's role, placement, activity or name; effective on their next request."""
    if not can_manage_users(actor):
        raise PermissionDenied("Only admins change accounts.")
    if user.id == actor.id and (role not in (None, actor.role) or is_active is False):
        raise Conflict("Admins cannot demote or deactivate themselves.", code="self_demotion")
    changes: dict[str, object] = {}
    new_role = role or user.role
    new_municipality = municipality_id if municipality_id is not None else user.municipality_id
    if new_role not in MUNICIPAL_ROLES:
        new_municipality = None
    if role is not None or municipality_id is not None:
        _check_role_placement(new_role, new_municipality)
    for name, value in (
        ("role", new_role),
        ("municipality_id", new_municipality),
        ("is_active", is_active),
        ("display_name", display_name),
    ):
        if value is not None and getattr(user, name) != value:
            changes[name] = value.value if isinstance(value, Role) else value
            setattr(user, name, value)
    if changes:
        save_and_audit(user, actor=actor, action="user.update", target_type="user", details=changes)
    return user


def delete_user(*, actor: User, user: User) -> None:
    """Delete an account: its logins stop working and its contact data is scrubbed."""
    if not can_manage_users(actor):
        raise PermissionDenied("Only admins delete accounts.")
    if user.id == actor.id:
        raise Conflict("Admins cannot delete themselves.", code="self_demotion")
    from backend.privacy.rights import erase_account  # privacy builds on identity

    # One deletion for everyone: the same erasure as a citizen's own (README "Personal data").
    erase_account(user=user, actor=actor)
    save_and_audit(user, actor=actor, action="user.delete", target_type="user")


# ---- login sessions -------------------------------------------------------------------------


@dataclass
class LoginResult:
    """The outcome of a login attempt: a session, or the error to answer with.

    A failed attempt still changes the database (the failure counter), so the caller commits
    before it answers with the error.
    """

    user: User | None = None
    session: AuthSession | None = None
    error: DomainError | None = None


def _find_login(identifier: str) -> User | None:
    identifier = identifier.strip()
    if "@" in identifier:
        condition = User.email == normalize_email(identifier)
    else:
        condition = User.phone == normalize_phone(identifier)
    return db.session.scalar(sa.select(User).where(condition, User.deleted_at.is_(None)))


def _throttle_key(identifier: str) -> str:
    """The key of an unknown identifier's counter: an HMAC, so no login is stored in clear."""
    identifier = identifier.strip()
    if "@" in identifier:
        normalized = normalize_email(identifier) or identifier
    else:
        normalized = normalize_phone(identifier) or identifier
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, normalized.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def _throttle_target(user: User | None, identifier: str) -> tuple[sa.Table, Any]:
    """Where an attempt is counted: the account's row, or the unknown identifier's."""
    if user is not None:
        return User.__table__, User.__table__.c.id == user.id
    table = LoginThrottle.__table__
    key = _throttle_key(identifier)
    db.session.execute(
        insert_or_nothing(table)
        .values(key=key, failed_logins=0, created_at=utcnow())
        .on_conflict_do_nothing()
    )
    return table, table.c.key == key


def _reserve_attempt(table: sa.Table, row: Any) -> int:
    """Count this attempt before its password is checked, in one conditional UPDATE; 0 when
    it may go ahead, else the seconds the lock-out has left.

    Counting first (and locking at the threshold in the same statement) means parallel wrong
    passwords cannot all pass a check made before any of them was counted: at most
    `LOGIN_MAX_FAILURES` are ever checked per lock-out period, on PostgreSQL (row lock of the
    UPDATE) and SQLite (the writer's turn is taken by the UPDATE) alike.
    """
    config = current_app.config
    now = utcnow()
    column_type = table.c.locked_until.type
    reaches = table.c.failed_logins + 1 >= config["LOGIN_MAX_FAILURES"]
    lock_end = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    reserved = db.session.execute(
        sa.update(table)
        .where(row, sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
        .values(
            failed_logins=sa.case((reaches, 0), else_=table.c.failed_logins + 1),
            locked_until=sa.case(
                (reaches, sa.bindparam("lock_end", lock_end, type_=column_type)),
                else_=sa.null(),
            ),
        )
        .returning(table.c.failed_logins)
    ).first()
    if reserved is not None:
        return 0
    locked_until = db.session.scalar(sa.select(table.c.locked_until).where(row))
    if locked_until is None:  # unlocked meanwhile by a successful login: count from zero
        return 0
    return max(1, int((locked_until - now).total_seconds()) + 1)


def _clear_attempts(table: sa.Table, row: Any) -> None:
    db.session.execute(sa.update(table).where(row).values(failed_logins=0, locked_until=None))


def attempt_login(*, identifier: str, password: str, user_agent: str | None = None) -> LoginResult:
    """Check credentials; lock the login for a while after repeated failures.

    Unknown and known logins take the same steps and get the same answers (401 for a wrong
    password, 429 `account_locked` after `LOGIN_MAX_FAILURES` failures, each checked password
    costing one Argon2 verification), so neither the status, the body nor the time tells
    whether an account exists.
    """
    user = _find_login(identifier)
    table, row = _throttle_target(user, identifier)
    seconds_locked = _reserve_attempt(table, row)
    if seconds_locked:
        return LoginResult(
            error=RateLimited(
                "Too many failed logins; try again later.",
                code="account_locked",
                retry_after=seconds_locked,
            )
        )
    invalid = Unauthenticated("Wrong login or password.", code="invalid_credentials")
    if user is None:
        burn_verification_time(password)
        return LoginResult(error=invalid)
    if not verify_password(user.password_hash, password):
        return LoginResult(error=invalid)
    if not user.is_usable:
        return LoginResult(
            error=Unauthenticated("This account is disabled.", code="account_disabled")
        )
    _clear_attempts(table, row)
    session = AuthSession(
        user_id=user.id,
        user_agent=(user_agent or "")[:200] or None,
        expires_at=utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    db.session.add(session)
    db.session.flush()
    return LoginResult(user=user, session=session)


def load_session_user(*, user_id: str, session_id: str | None) -> tuple[User, AuthSession] | None:
    """The user and the live session a token names, in one query; None when either is gone."""
    if not session_id:
        return None
    row = db.session.execute(_SESSION_USER, {"session_id": session_id, "user_id": user_id}).first()
    if row is None:
        return None
    user, session = row
    if not session_admits(session, user, now=utcnow()):
        return None
    return user, session


def session_admits(session: Any, user: Any, *, now: datetime) -> bool:
    """Whether a login may act now: not logged out, not expired, its account usable."""
    return session.revoked_at is None and session.expires_at > now and account_usable(user)


class SessionCaller(NamedTuple):
    """The columns of a caller the hot paths need, read without the ORM."""

    role: Role
    municipality_id: str | None
    is_active: bool
    deleted_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime


#: The session check of `load_session_user` as plain columns, for raw connections.
SESSION_CALLER = (
    sa.select(
        User.role,
        User.municipality_id,
        User.is_active,
        User.deleted_at,
        AuthSession.revoked_at,
        AuthSession.expires_at,
    )
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.id == sa.bindparam("session_id"), User.id == sa.bindparam("user_id"))
)
#: The same check loading both objects. Built once: every signed-in request runs it, and
#: constructing the statement cost as much as running it (about 100 us of the session check).
_SESSION_USER = SESSION_CALLER.with_only_columns(User, AuthSession)


def end_session(*, session: AuthSession) -> None:
    """Log out: both tokens of the session stop working on every worker at once."""
    if session.revoked_at is None:
        session.revoked_at = utcnow()
        db.session.flush()
        events.publish(events.SESSION_ENDED, session_id=session.id, user_id=session.user_id)
