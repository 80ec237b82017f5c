"""Certification: reading certificates, and the questions other domains ask."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from backend.certification.criteria import (
    valid_on,
)
from backend.certification.models import (
    Benefit,
    Certificate,
    CertificateKind,
    CertificateStatus,
)
from backend.clock import utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import User
from backend.pagination import Page, paginate, where_given
from backend.permissions import can_see_certificate
from backend.rows import get_visible, list_page

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
    return list_page(
        Certificate,
        query=_filter_status(sa.select(Certificate), status),
        viewer=viewer,
        filters={Certificate.kind: kind, Certificate.user_id: user_id},
        limit=limit,
        cursor=cursor,
    )


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
    return get_visible(
        Certificate,
        certificate_id,
        viewer=viewer,
        may_see=can_see_certificate,
        message="Certificate not found.",
        code="certificate_not_found",
    )


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
