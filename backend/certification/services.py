"""Certification services: criteria, progress, issuing, renewal, re-issue, revocation, keys,
verification and the public questions other domains ask (has_active_certificate ...).

Certificates are issued automatically on the transaction that confirms the participation that
completes the criteria (`issue_on_participation_confirmed`, subscribed to
PARTICIPATION_CONFIRMED), or by an official. Verification never touches the database per scan:
see `registry.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from backend import events
from backend.audit.services import record_audit
from backend.certification.criteria import (
    Progress,
    StatsLike,
    evaluate_criteria,
    expiry_after,
    valid_on,
    window_start,
)
from backend.certification.keys import encrypt_private_key, generate_signing_key
from backend.certification.models import (
    Benefit,
    Certificate,
    CertificateKind,
    CertificateSerialCounter,
    CertificateSigningKey,
    CertificateStatus,
    CertificationCriteria,
    CertificationState,
    IssueReason,
    KeyStatus,
)
from backend.certification.qr import render_png, render_svg
from backend.certification.registry import STATE_ROW_ID, VerificationRegistry
from backend.certification.status_list import random_revocation_index
from backend.certification.token import (
    ISSUER_PATTERN,
    MASK_CHAR,
    CertificateClaims,
    VerificationResult,
    build_certificate_claims,
    mask_name,
    new_certificate_id,
    sign_certificate_token,
)
from backend.clock import SEOUL, as_utc, system_clock, utcnow
from backend.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.pagination import Page, paginate, where_given
from backend.participation.services import confirmed_participation_stats
from backend.permissions import Role, ensure_same_municipality, scope_to_municipality

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


# ---- criteria -------------------------------------------------------------------------------


def list_criteria(*, viewer: User, limit: int, cursor: str | None) -> Page:
    """Certification criteria the viewer may see."""
    query = scope_to_municipality(sa.select(CertificationCriteria), CertificationCriteria, viewer)
    return paginate(query, CertificationCriteria.id, limit=limit, cursor=cursor)


def get_criteria(*, viewer: User, criteria_id: str) -> CertificationCriteria:
    """One set of criteria, if the viewer may see it."""
    criteria = db.session.get(CertificationCriteria, criteria_id)
    if criteria is None or not _visible(viewer, criteria):
        raise NotFound("Criteria not found.", code="certification_criteria_not_found")
    return criteria


def _visible(viewer: User, row: Any) -> bool:
    try:
        ensure_same_municipality(viewer, row)
    except NotFound:
        return False
    return True


def create_criteria(
    *,
    actor: User,
    kind: CertificateKind,
    min_participations: int,
    min_stages: int,
    window_months: int,
    validity_months: int,
    min_hours: int | None = None,
    auto_issue: bool = True,
    nomination_allowed: bool = True,
    benefits: list[Benefit] | None = None,
    is_active: bool = True,
) -> CertificationCriteria:
    """An official sets the criteria of one kind of certificate for their municipality."""
    exists = db.session.scalar(
        sa.select(CertificationCriteria.id).where(
            CertificationCriteria.municipality_id == actor.municipality_id,
            CertificationCriteria.kind == kind,
        )
    )
    if exists is not None:
        raise Conflict(
            "Criteria for this kind exist; change them instead.",
            code="criteria_exist",
            details={"criteria_id": exists},
        )
    criteria = CertificationCriteria(
        id=new_id(),
        municipality_id=actor.municipality_id,
        kind=kind,
        min_participations=min_participations,
        min_stages=min_stages,
        min_hours=min_hours,
        window_months=window_months,
        validity_months=validity_months,
        auto_issue=auto_issue,
        nomination_allowed=nomination_allowed,
        benefits=_benefit_values(benefits),
        is_active=is_active,
        created_by_id=actor.id,
    )
    db.session.add(criteria)
    db.session.flush()
    record_audit(
        actor=actor,
        action="certification_criteria.create",
        target_type="certification_criteria",
        target_id=criteria.id,
        municipality_id=criteria.municipality_id,
        details={"kind": kind.value},
    )
    return criteria


def update_criteria(
    *, actor: User, criteria: CertificationCriteria, **changes: Any
) -> CertificationCriteria:
    """Change criteria; certificates already issued keep their dates and benefits."""
    ensure_same_municipality(actor, criteria)
    if "benefits" in changes:
        changes["benefits"] = _benefit_values(changes["benefits"])
    changed = {}
    for name, value in changes.items():
        if getattr(criteria, name) != value:
            setattr(criteria, name, value)
            changed[name] = value
    if changed:
        criteria.updated_at = utcnow()
        db.session.flush()
        record_audit(
            actor=actor,
            action="certification_criteria.update",
            target_type="certification_criteria",
            target_id=criteria.id,
            municipality_id=criteria.municipality_id,
            details=changed,
        )
    return criteria


def _benefit_values(benefits: list[Benefit] | list[str] | None) -> list[str]:
    values = {Benefit(benefit).value for benefit in benefits or ()}
    return [benefit.value for benefit in Benefit if benefit.value in values]


def active_criteria(*, municipality_id: str, kind: CertificateKind) -> CertificationCriteria | None:
    """The active criteria of a kind in a municipality, if any."""
    return db.session.scalar(
        sa.select(CertificationCriteria).where(
            CertificationCriteria.municipality_id == municipality_id,
            CertificationCriteria.kind == kind,
            CertificationCriteria.is_active.is_(True),
        )
    )


# ---- progress -------------------------------------------------------------------------------


def _participation_stats(user_id: str, since: datetime) -> StatsLike:
    """The citizen's confirmed participations since a moment: the one call into participation."""
    return confirmed_participation_stats(user_id=user_id, since=since)


@dataclass(frozen=True)
class CriteriaProgress:
    """A citizen's progress toward one kind of certificate."""

    criteria: CertificationCriteria
    window_start: datetime
    progress: Progress
    certificate: Certificate | None

    @property
    def met(self) -> bool:
        """True when every requirement is met."""
        return self.progress.met

    @property
    def requirements(self) -> tuple:
        """What is required, what the citizen has, and what is missing."""
        return self.progress.requirements

    @property
    def kind(self) -> CertificateKind:
        """The kind of certificate."""
        return self.criteria.kind


def progress_for(*, user: User) -> list[CriteriaProgress]:
    """A citizen's progress toward every certificate of their municipality with criteria."""
    now = utcnow()
    criteria_rows = db.session.scalars(
        sa.select(CertificationCriteria)
        .where(
            CertificationCriteria.municipality_id == user.municipality_id,
            CertificationCriteria.is_active.is_(True),
        )
        .order_by(CertificationCriteria.kind)
    )
    found = []
    for criteria in criteria_rows:
        since = window_start(now, criteria.window_months)
        stats = _participation_stats(user.id, since)
        found.append(
            CriteriaProgress(
                criteria=criteria,
                window_start=since,
                progress=evaluate_criteria(criteria, stats),
                certificate=_current_certificate(user.id, criteria.kind, mark_expired=False),
            )
        )
    return found


# ---- certificates: reading ------------------------------------------------------------------


def list_certificates(
    *,
    viewer: User,
    limit: int,
    cursor: str | None,
    status: CertificateStatus | None = None,
    kind: CertificateKind | None = None,
    user_id: str | None = None,
) -> Page:
    """Certificates of the viewer's municipality (all for national roles), newest first."""
    query = scope_to_municipality(sa.select(Certificate), Certificate, viewer)
    query = _filter_status(query, status)
    query = where_given(
        query,
        {
            Certificate.kind: kind,
            Certificate.user_id: user_id,
        },
    )
    return paginate(query, Certificate.id, limit=limit, cursor=cursor)


def list_my_certificates(
    *, user: User, limit: int, cursor: str | None, status: CertificateStatus | None = None
) -> Page:
    """The caller's own certificates, newest first."""
    query = _filter_status(sa.select(Certificate).where(Certificate.user_id == user.id), status)
    return paginate(query, Certificate.id, limit=limit, cursor=cursor)


def _filter_status(query: sa.Select, status: CertificateStatus | None) -> sa.Select:
    now = utcnow()
    if status == CertificateStatus.ACTIVE:
        return query.where(Certificate.status == status, Certificate.expires_at > now)
    if status == CertificateStatus.EXPIRED:
        return query.where(
            sa.or_(
                Certificate.status == status,
                sa.and_(
                    Certificate.status == CertificateStatus.ACTIVE, Certificate.expires_at <= now
                ),
            )
        )
    if status == CertificateStatus.REVOKED:
        return query.where(Certificate.status == status)
    return query


def get_certificate_for(*, viewer: User, certificate_id: str) -> Certificate:
    """A certificate its holder, or staff of its municipality, may see; else not found."""
    certificate = db.session.get(Certificate, certificate_id)
    visible = certificate is not None and (
        certificate.user_id == viewer.id
        if viewer.role == Role.CITIZEN
        else _visible(viewer, certificate)
    )
    if not visible:
        raise NotFound("Certificate not found.", code="certificate_not_found")
    return certificate


def get_own_certificate(*, user: User, certificate_id: str) -> Certificate:
    """One of the caller's own certificates."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != user.id:
        raise NotFound("Certificate not found.", code="certificate_not_found")
    return certificate


def _current_certificate(
    user_id: str, kind: CertificateKind, *, mark_expired: bool = True
) -> Certificate | None:
    """The citizen's active certificate of a kind; one found past its expiry is marked expired."""
    certificate = db.session.scalar(
        sa.select(Certificate).where(
            Certificate.user_id == user_id,
            Certificate.kind == kind,
            Certificate.status == CertificateStatus.ACTIVE,
        )
    )
    if certificate is not None and certificate.expires_at <= utcnow():
        if mark_expired:
            certificate.status = CertificateStatus.EXPIRED
            db.session.flush()
        return None
    return certificate


def has_active_certificate(
    *, user_id: str, on: date, kind: CertificateKind = CertificateKind.MODEL_CITIZEN
) -> bool:
    """Whether the citizen holds a certificate of the kind, not revoked nor expired, on a day."""
    return bool(_valid_certificates(user_id=user_id, on=on, kind=kind))


def certificate_benefits(*, user_id: str, on: date) -> frozenset[Benefit]:
    """The benefits the citizen's valid certificates grant on a (Seoul) day."""
    found: set[Benefit] = set()
    for certificate in _valid_certificates(user_id=user_id, on=on):
        found.update(Benefit(value) for value in certificate.benefits or ())
    return frozenset(found)


def has_certificate_benefit(*, user_id: str, benefit: Benefit | str, on: date) -> bool:
    """Whether a valid certificate gives the citizen a benefit (e.g. priority meeting access)."""
    return Benefit(benefit) in certificate_benefits(user_id=user_id, on=on)


def _valid_certificates(
    *, user_id: str, on: date, kind: CertificateKind | None = None
) -> list[Certificate]:
    query = sa.select(Certificate).where(
        Certificate.user_id == user_id,
        Certificate.status.in_([CertificateStatus.ACTIVE, CertificateStatus.EXPIRED]),
    )
    query = where_given(query, {Certificate.kind: kind})
    return [
        certificate
        for certificate in db.session.scalars(query)
        if valid_on(issued_at=certificate.issued_at, expires_at=certificate.expires_at, day=on)
    ]


# ---- certificates: issuing ------------------------------------------------------------------


def _masked_holder(user: User) -> str:
    try:
        masked = mask_name(user.display_name)
        build_certificate_claims(  # the claim rules (printable, bounded) decide
            issuer="x",
            kind=CertificateKind.MODEL_CITIZEN.value,
            holder_name=user.display_name,
            issued_at=utcnow(),
            expires_at=utcnow() + timedelta(days=1),
            revocation_index=0,
        )
    except ValueError:
        return MASK_CHAR  # a name that cannot be shown safely is shown as nothing at all
    return masked


def _issuer_code(user: User) -> str:
    code = user.municipality.code if user.municipality else ""
    if not ISSUER_PATTERN.fullmatch(code or ""):
        raise RuleViolation(
            "This municipality's code cannot be put on a certificate.", code="issuer_code_invalid"
        )
    return code


def _signed_token(
    *,
    issuer: str,
    public_id: str,
    kind: CertificateKind,
    holder: str,
    issued_at: datetime,
    expires_at: datetime,
    revocation_index: int,
    key_row: CertificateSigningKey,
) -> str:
    claims = CertificateClaims(
        issuer=issuer,
        certificate_id=public_id,
        kind=CertificateKind(kind).value,
        holder=holder,
        issued_at=int(as_utc(issued_at).timestamp()),
        expires_at=int(as_utc(expires_at).timestamp()),
        revocation_index=revocation_index,
    )
    key = registry().signing_key(key_row.kid, key_row.encrypted_private_key)
    return sign_certificate_token(claims, private_key=key, kid=key.kid)


def _sign(certificate: Certificate, *, issuer: str, key_row: CertificateSigningKey) -> None:
    """Re-sign a certificate's token (renewal) with the active key."""
    certificate.token = _signed_token(
        issuer=issuer,
        public_id=certificate.public_id,
        kind=certificate.kind,
        holder=certificate.holder_masked,
        issued_at=certificate.issued_at,
        expires_at=certificate.expires_at,
        revocation_index=certificate.revocation_index,
        key_row=key_row,
    )
    certificate.key_kid = key_row.kid
    certificate.qr_png = render_png(certificate.token)


def _insert_or_nothing(table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT for the dialect in use (PostgreSQL or SQLite)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _next_serial(municipality_id: str, code: str, year: int) -> str:
    """The next serial number of a municipality and year, in one upsert (no lost updates)."""
    table = CertificateSerialCounter.__table__
    statement = _insert_or_nothing(table).values(
        municipality_id=municipality_id, year=year, last_number=1
    )
    number = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.municipality_id, table.c.year],
            set_={"last_number": table.c.last_number + 1},
        ).returning(table.c.last_number)
    ).scalar_one()
    return f"{code}-{year}-{number:06d}"


def _insert_certificate(
    *, issuer: str, key_row: CertificateSigningKey, **values: Any
) -> Certificate:
    """Insert a signed certificate with a random revocation index, drawing again if taken.

    ON CONFLICT DO NOTHING instead of a failing INSERT keeps the caller's transaction (the
    confirmation of a participation, for automatic issues) intact whatever clashes.
    """
    table = Certificate.__table__
    size = current_app.config["CERTIFICATE_STATUS_LIST_SIZE"]
    for _attempt in range(_REVOCATION_INDEX_ATTEMPTS):
        public_id, index = new_certificate_id(), random_revocation_index(size)
        token = _signed_token(
            issuer=issuer,
            public_id=public_id,
            kind=values["kind"],
            holder=values["holder_masked"],
            issued_at=values["issued_at"],
            expires_at=values["expires_at"],
            revocation_index=index,
            key_row=key_row,
        )
        inserted = db.session.execute(
            _insert_or_nothing(table)
            .values(
                id=new_id(),
                public_id=public_id,
                revocation_index=index,
                token=token,
                # Drawn here (~4 ms, once) so that no worker draws it while a holder waits.
                qr_png=render_png(token),
                key_kid=key_row.kid,
                created_at=utcnow(),
                **values,
            )
            .on_conflict_do_nothing()
            .returning(table.c.id)
        ).scalar()
        if inserted is not None:
            return db.session.get(Certificate, inserted)
        if _current_certificate(values["user_id"], values["kind"], mark_expired=False):
            raise Conflict(
                "The citizen already holds an active certificate of this kind.",
                code="certificate_exists",
            )
        # Otherwise the random revocation index (or certificate id) was taken: draw again.
    raise Conflict("Could not allocate a revocation index; try again.", code="conflict")


def _new_certificate(
    *,
    user: User,
    kind: CertificateKind,
    actor: User | None,
    reason: IssueReason,
    benefits: list[str],
    expires_at: datetime,
    replaces: Certificate | None = None,
) -> Certificate:
    code = _issuer_code(user)
    key_row = ensure_signing_key()
    now = utcnow()
    year = now.astimezone(SEOUL).year
    certificate = _insert_certificate(
        issuer=code,
        key_row=key_row,
        serial_number=_next_serial(user.municipality_id, code, year),
        municipality_id=user.municipality_id,
        user_id=user.id,
        kind=kind,
        status=CertificateStatus.ACTIVE,
        issue_reason=reason,
        benefits=benefits,
        holder_masked=_masked_holder(user),
        issued_at=now,
        expires_at=expires_at,
        issued_by_id=actor.id if actor else None,
        replaces_id=replaces.id if replaces else None,
    )
    record_audit(
        actor=actor,
        action="certificate.issue",
        target_type="certificate",
        target_id=certificate.id,
        municipality_id=certificate.municipality_id,
        details={
            "user_id": user.id,
            "kind": kind.value,
            "reason": reason.value,
            "serial_number": certificate.serial_number,
            "replaces": replaces.id if replaces else None,
        },
    )
    _announce_issued(certificate)
    return certificate


def _announce_issued(certificate: Certificate) -> None:
    events.publish(
        events.CERTIFICATE_ISSUED,
        certificate_id=certificate.id,
        user_id=certificate.user_id,
        municipality_id=certificate.municipality_id,
        expires_at=certificate.expires_at,
    )


def _criteria_met(user: User, criteria: CertificationCriteria) -> bool:
    stats = _participation_stats(user.id, window_start(utcnow(), criteria.window_months))
    return evaluate_criteria(criteria, stats).met


def _validity_months(criteria: CertificationCriteria | None) -> int:
    if criteria is not None:
        return criteria.validity_months
    return current_app.config["CERTIFICATE_DEFAULT_VALIDITY_MONTHS"]


def _ensure_citizen(user: User) -> None:
    if user.role != Role.CITIZEN or not user.is_usable:
        raise ValidationFailed(
            "Certificates are for citizens.",
            code="not_a_citizen",
            fields={"user_id": ["Not an active citizen."]},
        )


def issue_certificate(
    *,
    user: User,
    kind: CertificateKind,
    actor: User | None,
    benefits: list[Benefit] | None = None,
) -> Certificate:
    """Issue a certificate: on the criteria, or by an official's nomination where allowed."""
    _ensure_citizen(user)
    if actor is not None:
        ensure_same_municipality(actor, user)
    if _current_certificate(user.id, kind) is not None:
        raise Conflict(
            "The citizen already holds an active certificate of this kind.",
            code="certificate_exists",
        )
    criteria = active_criteria(municipality_id=user.municipality_id, kind=kind)
    met = criteria is not None and _criteria_met(user, criteria)
    if actor is None and not met:
        raise RuleViolation("The criteria are not met.", code="criteria_not_met")
    if not met and criteria is not None and not criteria.nomination_allowed:
        raise RuleViolation(
            "The criteria are not met and nomination is not allowed.", code="criteria_not_met"
        )
    chosen = benefits if benefits is not None else (criteria.benefits if criteria else [])
    return _new_certificate(
        user=user,
        kind=kind,
        actor=actor,
        reason=IssueReason.CRITERIA if met else IssueReason.NOMINATION,
        benefits=_benefit_values(chosen),
        expires_at=expiry_after(utcnow(), _validity_months(criteria)),
    )


def _renewal_opens(certificate: Certificate) -> datetime:
    days = current_app.config["CERTIFICATE_RENEWAL_WINDOW_DAYS"]
    return certificate.expires_at - timedelta(days=days)


def renew_certificate(*, certificate: Certificate, actor: User) -> Certificate:
    """Extend a certificate by its validity, from shortly before its expiry (or after it).

    Its holder renews if the criteria are still met; an official also where nomination is
    allowed.

    The certificate keeps its id, serial number and revocation index; only the expiry and the
    signed token change (the old QR stays valid until its own, earlier, expiry).
    """
    status = certificate.current_status
    if status == CertificateStatus.REVOKED:
        raise RuleViolation("A revoked certificate cannot be renewed.", code="certificate_revoked")
    holder = certificate.holder
    now = utcnow()
    criteria = active_criteria(municipality_id=certificate.municipality_id, kind=certificate.kind)
    if actor.role == Role.CITIZEN and actor.id != certificate.user_id:
        raise NotFound("Certificate not found.", code="certificate_not_found")
    if actor.role != Role.CITIZEN:
        ensure_same_municipality(actor, certificate)
    # For everyone, so that renewing twice cannot push the expiry years ahead.
    if now < _renewal_opens(certificate):
        raise RuleViolation(
            "Renewal opens closer to the expiry.",
            code="renewal_not_open",
            details={"opens_at": _renewal_opens(certificate).isoformat()},
        )
    if actor.role == Role.CITIZEN:
        if criteria is None or not _criteria_met(holder, criteria):
            raise RuleViolation("The criteria are not met.", code="criteria_not_met")
    else:
        nomination_refused = criteria is not None and not criteria.nomination_allowed
        if nomination_refused and not _criteria_met(holder, criteria):
            raise RuleViolation("The criteria are not met.", code="criteria_not_met")
    if status == CertificateStatus.EXPIRED:
        other = _current_certificate(certificate.user_id, certificate.kind)
        if other is not None and other.id != certificate.id:
            raise Conflict(
                "The citizen holds another active certificate of this kind.",
                code="certificate_exists",
            )
    return _extend(certificate, actor=actor, criteria=criteria, now=now)


def _extend(
    certificate: Certificate,
    *,
    actor: User | None,
    criteria: CertificationCriteria | None,
    now: datetime,
) -> Certificate:
    base = max(now, certificate.expires_at)
    previous = certificate.expires_at
    certificate.expires_at = expiry_after(base, _validity_months(criteria))
    certificate.status = CertificateStatus.ACTIVE
    certificate.renewed_at = now
    certificate.expiring_notified_at = None
    certificate.holder_masked = _masked_holder(certificate.holder)
    _sign(certificate, issuer=_issuer_code(certificate.holder), key_row=ensure_signing_key())
    db.session.flush()
    record_audit(
        actor=actor,
        action="certificate.renew",
        target_type="certificate",
        target_id=certificate.id,
        municipality_id=certificate.municipality_id,
        details={
            "previous_expires_at": previous.isoformat(),
            "expires_at": certificate.expires_at.isoformat(),
        },
    )
    _announce_issued(certificate)
    return certificate


def revoke_certificate(*, certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    """Revoke a certificate; every worker answers "revoked" within the refresh interval."""
    if actor is not None:
        if actor.role not in (Role.OFFICIAL, Role.ADMIN):
            raise PermissionDenied("Only officials revoke certificates.")
        ensure_same_municipality(actor, certificate)
    _revoke(certificate, actor=actor, reason=reason)
    events.publish(
        events.CERTIFICATE_REVOKED,
        certificate_id=certificate.id,
        user_id=certificate.user_id,
        municipality_id=certificate.municipality_id,
        reason=certificate.revocation_reason,
    )
    return certificate


def _revoke(certificate: Certificate, *, actor: User | None, reason: str) -> None:
    if certificate.status == CertificateStatus.REVOKED:
        raise RuleViolation("The certificate is already revoked.", code="certificate_revoked")
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason.strip()[:200]
    certificate.revoked_by_id = actor.id if actor else None
    db.session.flush()
    bump_state_version()
    record_audit(
        actor=actor,
        action="certificate.revoke",
        target_type="certificate",
        target_id=certificate.id,
        municipality_id=certificate.municipality_id,
        details={"reason": certificate.revocation_reason},
    )


def reissue_certificate(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """After a loss: revoke the old certificate and issue a new one with a new token and serial.

    The new certificate keeps the kind, benefits and expiry; only CERTIFICATE_ISSUED is
    published (the holder asked for it, a "revoked" notice would alarm them).
    """
    if actor.role == Role.CITIZEN:
        if actor.id != certificate.user_id:
            raise NotFound("Certificate not found.", code="certificate_not_found")
    else:
        ensure_same_municipality(actor, certificate)
    status = certificate.current_status
    if status == CertificateStatus.REVOKED:
        raise RuleViolation("The certificate is revoked.", code="certificate_revoked")
    if status == CertificateStatus.EXPIRED:
        raise RuleViolation(
            "The certificate has expired; renew it instead.", code="certificate_expired"
        )
    _revoke(certificate, actor=actor, reason=f"재발급(reissued): {reason.strip()}")
    return _new_certificate(
        user=certificate.holder,
        kind=certificate.kind,
        actor=actor,
        reason=IssueReason.REISSUE,
        benefits=list(certificate.benefits or ()),
        expires_at=certificate.expires_at,
        replaces=certificate,
    )


def issue_on_participation_confirmed(
    *, user_id: str, municipality_id: str, **_event: Any
) -> list[Certificate]:
    """Issue (or renew, near expiry) each certificate whose criteria this confirmation meets."""
    # Subscribed to PARTICIPATION_CONFIRMED, so it runs in the confirming transaction and sees
    # the participation just confirmed. A concurrent issue for the same citizen is refused by
    # the one-active index through ON CONFLICT DO NOTHING, never by failing the transaction.
    criteria_rows = list(
        db.session.scalars(
            sa.select(CertificationCriteria).where(
                CertificationCriteria.municipality_id == municipality_id,
                CertificationCriteria.is_active.is_(True),
                CertificationCriteria.auto_issue.is_(True),
            )
        )
    )
    if not criteria_rows:
        return []
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.CITIZEN or not user.is_usable:
        return []
    now = utcnow()
    done = []
    for criteria in criteria_rows:
        current = _current_certificate(user_id, criteria.kind)
        if current is not None and now < _renewal_opens(current):
            continue
        if not _criteria_met(user, criteria):
            continue
        try:
            if current is not None:
                done.append(_extend(current, actor=None, criteria=criteria, now=now))
            else:
                done.append(
                    _new_certificate(
                        user=user,
                        kind=criteria.kind,
                        actor=None,
                        reason=IssueReason.CRITERIA,
                        benefits=list(criteria.benefits or ()),
                        expires_at=expiry_after(now, criteria.validity_months),
                    )
                )
        except (Conflict, RuleViolation) as error:
            # Nothing was inserted (a concurrent issue won, or the code cannot be signed): the
            # confirmation itself goes on.
            log.info("no certificate for %s: %s", user_id, error.code)
    return done


def expire_certificates(*, notice_days: int | None = None) -> tuple[int, int]:
    """Mark past-expiry certificates expired and announce, once, those expiring soon (cron)."""
    now = utcnow()
    days = (
        current_app.config["CERTIFICATE_EXPIRING_NOTICE_DAYS"]
        if notice_days is None
        else notice_days
    )
    expired = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.status == CertificateStatus.ACTIVE, Certificate.expires_at <= now)
        .values(status=CertificateStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    ).rowcount
    expiring = list(
        db.session.scalars(
            sa.select(Certificate).where(
                Certificate.status == CertificateStatus.ACTIVE,
                Certificate.expires_at <= now + timedelta(days=days),
                Certificate.expiring_notified_at.is_(None),
            )
        )
    )
    for certificate in expiring:
        certificate.expiring_notified_at = now
        events.publish(
            events.CERTIFICATE_EXPIRING,
            certificate_id=certificate.id,
            user_id=certificate.user_id,
            municipality_id=certificate.municipality_id,
            expires_at=certificate.expires_at,
        )
    db.session.flush()
    return expired, len(expiring)


# ---- verification and publication -----------------------------------------------------------


def verify_text(text: str, *, app: Flask | None = None) -> dict[str, Any]:
    """The public answer for scanned text: status, time checked, and only what the QR shows.

    With `app` given it needs no app context (the verification fast path runs before Flask).
    """
    now = app.extensions.get("clock", system_clock)() if app is not None else utcnow()
    found = registry(app)
    return verification_answer(found.check(text, now), now, registry_=found)


def verification_answer(
    result: VerificationResult, now: datetime, *, registry_: VerificationRegistry | None = None
) -> dict[str, Any]:
    """JSON-ready verification result: never more than the certificate itself shows."""
    answer: dict[str, Any] = {
        "status": result.status.value,
        "checked_at": now.astimezone(SEOUL).replace(microsecond=0).isoformat(),
    }
    claims = result.claims
    if claims is not None:
        answer["holder"] = claims.holder
        answer["kind"] = claims.kind
        answer["municipality"] = {
            "code": claims.issuer,
            "name": (registry_ or registry()).municipality_name(claims.issuer, now),
        }
        answer["issued_at"] = _seoul_iso(claims.issued_at)
        answer["expires_at"] = _seoul_iso(claims.expires_at)
    return answer


def _seoul_iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, SEOUL).isoformat()


def jwks_document() -> dict[str, Any]:
    """The public keys a verifier app caches (`/.well-known/jwks.json`)."""
    return registry().jwks(utcnow())


def revocation_lists(*, issuer: str | None = None) -> list[str]:
    """Signed status lists, one per issuer (optionally only one issuer's)."""
    return registry().status_lists(utcnow(), issuer=issuer)


@dataclass(frozen=True)
class QrSource:
    """What serving a certificate's QR image needs: its token and the stored screen PNG."""

    token: str
    png: bytes | None

    def image(self, *, fmt: str, level: str) -> bytes:
        """The image (PNG or SVG, level M or Q), drawn at most once per worker, or stored."""
        if fmt == "png" and level == "M" and self.png:
            return self.png  # the holder's screen image, stored when the token was signed
        render = render_png if fmt == "png" else render_svg
        return render(self.token, level=level)


def qr_source_for(*, viewer: User, certificate_id: str) -> QrSource:
    """The QR of a certificate its holder, or staff of its municipality, may see (one query)."""
    row = db.session.execute(
        sa.select(
            Certificate.user_id, Certificate.municipality_id, Certificate.token, Certificate.qr_png
        ).where(Certificate.id == certificate_id)
    ).first()
    visible = row is not None and (
        row.user_id == viewer.id if viewer.role == Role.CITIZEN else _visible(viewer, row)
    )
    if not visible:
        raise NotFound("Certificate not found.", code="certificate_not_found")
    return QrSource(token=row.token, png=row.qr_png)
