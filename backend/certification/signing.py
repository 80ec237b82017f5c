"""Certification: the per-process verification registry and the signing keys."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from backend.audit.services import record_audit
from backend.certification.keys import encrypt_private_key, generate_signing_key
from backend.certification.models import (
    CertificateSigningKey,
    CertificationState,
    KeyStatus,
)
from backend.certification.registry import STATE_ROW_ID, VerificationRegistry
from backend.clock import utcnow
from backend.errors import Conflict
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id

log = logging.getLogger(__name__)

_REVOCATION_INDEX_ATTEMPTS = 8


# ---- the per-process registry (keys, revocations) -------------------------------------------


def registry(app: Flask | None = None) -> VerificationRegistry:
    """This app's verification registry, created on first use from the configuration."""
    app = app or current_app
    found = app.extensions.get("certification_registry")
    if found is None:
        config = app.config
        found = VerificationRegistry(
            key_secret=config["CERTIFICATE_KEY_SECRET"],
            refresh_seconds=config["CERTIFICATE_REFRESH_SECONDS"],
            status_list_size=config["CERTIFICATE_STATUS_LIST_SIZE"],
            status_list_ttl=config["CERTIFICATE_STATUS_LIST_TTL"],
            resign_seconds=config["CERTIFICATE_STATUS_LIST_RESIGN_SECONDS"],
            engine_factory=partial(_engine_of, getattr(app, "_get_current_object", lambda: app)()),
        )
        app.extensions["certification_registry"] = found
    return found


def _engine_of(app: Flask) -> sa.Engine:
    with app.app_context():
        return db.engine


def bump_state_version() -> int:
    """Tell every worker to reload keys and revocations (in the caller's transaction)."""
    table = CertificationState.__table__
    now = utcnow()
    # An upsert: the row is made by the migration, and again here should it ever be missing.
    version = db.session.execute(
        _insert_or_nothing(table)
        .values(id=STATE_ROW_ID, version=1, changed_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.id],
            set_={"version": table.c.version + 1, "changed_at": now},
        )
        .returning(table.c.version)
    ).scalar_one()
    # This worker sees its own change on its next scan, not after its interval.
    registry().invalidate()
    return int(version)


# ---- signing keys ---------------------------------------------------------------------------


def active_signing_key() -> CertificateSigningKey | None:
    """The key new certificates are signed with, if one exists."""
    return db.session.scalar(
        sa.select(CertificateSigningKey).where(CertificateSigningKey.status == KeyStatus.ACTIVE)
    )


def _create_signing_key() -> CertificateSigningKey:
    """Store a new active key; if another transaction just did, that one is returned instead."""
    key = generate_signing_key()
    table = CertificateSigningKey.__table__
    # The one-active index and the unique kid both end in DO NOTHING: two workers making the
    # first key at once must not fail the request that needed it.
    inserted = db.session.execute(
        _insert_or_nothing(table)
        .values(
            id=new_id(),
            kid=key.kid,
            status=KeyStatus.ACTIVE,
            public_jwk=key.public_jwk(),
            encrypted_private_key=encrypt_private_key(key, master_key=registry().master_key),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    ).scalar()
    row = db.session.get(CertificateSigningKey, inserted) if inserted else active_signing_key()
    if row is None:
        raise Conflict("Could not store a signing key; try again.", code="conflict")
    return row


def ensure_signing_key() -> CertificateSigningKey:
    """The active signing key, made on first use (the embedded mode needs no set-up step)."""
    row = active_signing_key()
    if row is None:
        row = _create_signing_key()
        record_audit(
            actor=None,
            action="certificate_key.create",
            target_type="certificate_key",
            target_id=row.kid,
        )
        bump_state_version()
    return row


def rotate_signing_keys(*, actor: User | None = None) -> CertificateSigningKey:
    """Retire the active key and make a new one: new certificates use it, old ones still verify."""
    retired = active_signing_key()
    if retired is not None:
        retired.status = KeyStatus.RETIRED
        retired.retired_at = utcnow()
        db.session.flush()  # the one-active-key index must see the old key retired first
    row = _create_signing_key()
    record_audit(
        actor=actor,
        action="certificate_key.rotate",
        target_type="certificate_key",
        target_id=row.kid,
        details={"retired": retired.kid if retired else None},
    )
    bump_state_version()
    return row


def list_signing_keys() -> list[CertificateSigningKey]:
    """Every signing key, oldest first (kid and state only are ever shown)."""
    return list(
        db.session.scalars(
            sa.select(CertificateSigningKey).order_by(CertificateSigningKey.created_at)
        )
    )


def _insert_or_nothing(table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT for the dialect in use (PostgreSQL or SQLite)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
