"""Certification: issuing, renewal, revocation, re-issue and expiry of certificates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from backend import events
from backend.audit.services import save_and_audit
from backend.certification.certificates import _current_certificate
from backend.certification.criteria import (
    expiry_after,
)
from backend.certification.criteria_admin import _benefit_values, active_criteria
from backend.certification.issue_number import new_issue_number
from backend.certification.models import (
    Benefit,
    Certificate,
    CertificateKind,
    CertificateSerialCounter,
    CertificateSigningKey,
    CertificateStatus,
    CertificationCriteria,
    IssueReason,
)
from backend.certification.progress import _criteria_met
from backend.certification.qr import render_png
from backend.certification.signing import (
    _REVOCATION_INDEX_ATTEMPTS,
    _insert_or_nothing,
    bump_state_version,
    ensure_signing_key,
    log,
    registry,
)
from backend.certification.status_list import random_revocation_index
from backend.certification.token import (
    ISSUER_PATTERN,
    MASK_CHAR,
    CertificateClaims,
    build_certificate_claims,
    mask_name,
    new_certificate_id,
    sign_certificate_token,
)
from backend.clock import SEOUL, as_utc, utcnow
from backend.database import lock_row
from backend.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ids import new_id
from backend.permissions import (
    Role,
    can_nominate,
    can_revoke_certificates,
    can_see_certificate,
    ensure_same_municipality,
)

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
                issue_number=new_issue_number(),
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
        # Otherwise the random revocation index (or certificate id, or issue number) was taken:
        # draw again.
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
    save_and_audit(
        certificate,
        actor=actor,
        action="certificate.issue",
        target_type="certificate",
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
    # Decided on the current row: two parallel renewals extend (and announce) once.
    certificate = lock_row(Certificate, certificate)
    status = certificate.current_status
    if status == CertificateStatus.REVOKED:
        raise RuleViolation("A revoked certificate cannot be renewed.", code="certificate_revoked")
    holder = certificate.holder
    now = utcnow()
    criteria = active_criteria(municipality_id=certificate.municipality_id, kind=certificate.kind)
    if not can_see_certificate(actor, certificate):
        raise NotFound("Certificate not found.", code="certificate_not_found")
    # For everyone, so that renewing twice cannot push the expiry years ahead.
    if now < _renewal_opens(certificate):
        raise RuleViolation(
            "Renewal opens closer to the expiry.",
            code="renewal_not_open",
            details={"opens_at": _renewal_opens(certificate).isoformat()},
        )
    if not can_nominate(actor):
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
    save_and_audit(
        certificate,
        actor=actor,
        action="certificate.renew",
        target_type="certificate",
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
        if not can_revoke_certificates(actor):
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
    lock_row(Certificate, certificate)  # of two parallel revocations one revokes, once
    if certificate.status == CertificateStatus.REVOKED:
        raise RuleViolation("The certificate is already revoked.", code="certificate_revoked")
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revocation_reason = reason.strip()[:200]
    certificate.revoked_by_id = actor.id if actor else None
    db.session.flush()
    bump_state_version()
    save_and_audit(
        certificate,
        actor=actor,
        action="certificate.revoke",
        target_type="certificate",
        details={"reason": certificate.revocation_reason},
    )


def reissue_certificate(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """After a loss: revoke the old certificate and issue a new one with a new token and serial.

    The new certificate keeps the kind, benefits and expiry; only CERTIFICATE_ISSUED is
    published (the holder asked for it, a "revoked" notice would alarm them).
    """
    if not can_see_certificate(actor, certificate):
        raise NotFound("Certificate not found.", code="certificate_not_found")
    certificate = lock_row(Certificate, certificate)
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
