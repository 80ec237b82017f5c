"""Certification: verification answers, published keys, revocation lists, QR codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from backend.certification.models import (
    Certificate,
)
from backend.certification.qr import render_png, render_svg
from backend.certification.registry import VerificationRegistry
from backend.certification.signing import registry
from backend.certification.token import (
    VerificationResult,
)
from backend.clock import SEOUL, system_clock, utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.identity.models import User
from backend.permissions import can_see_certificate

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
    if row is None or not can_see_certificate(viewer, row):
        raise NotFound("Certificate not found.", code="certificate_not_found")
    return QrSource(token=row.token, png=row.qr_png)
