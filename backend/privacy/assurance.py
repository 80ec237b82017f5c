"""Identity assurance as a plug-in point (본인확인: PASS / carrier checks, i-PIN, 간편인증).

The platform calls no provider itself. A municipality plugs one in by naming a factory in
`IDENTITY_PROVIDER` ("package.module:factory"); the factory gets the app and returns an object
with the `IdentityProvider` interface below. The app sends the provider's one-time result token
to `POST /api/v1/me/identity-assurance`; the provider turns it into an `AssuranceResult`.

What is stored: the provider's name, the assurance level, when, and the CI and DI encrypted
(AES-256-GCM, key derived from `SECRET_KEY` with HKDF, the account id as associated data, so a
value copied to another account does not decrypt). A resident registration number
(주민등록번호) is never stored: the result type has no field for one, and a CI or DI that looks
like one is refused.

An activity or a committee can require a level (`AssuranceRequirement`): joining the activity,
or being appointed to the committee, is refused below it (403 `assurance_level_required`).
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from backend.audit.services import record_audit
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.permissions import is_official_of
from backend.privacy.models import AssuranceRequirement, IdentityAssurance

#: 1 self-asserted (sign-up), 2 one factor checked (carrier, 간편인증, i-PIN), 3 in person.
LEVELS = (1, 2, 3)
_RRN = re.compile(r"\d{6}-?[1-8]\d{6}")


@dataclass(frozen=True)
class AssuranceResult:
    """What a provider answers: CI (연계정보), DI (중복가입확인정보), a level and when."""

    provider: str
    level: int
    verified_at: datetime
    ci: str | None = None
    di: str | None = None


class IdentityProvider(Protocol):
    """The one interface a municipality implements to plug in an identity check."""

    name: str

    def verify(self, result_token: str) -> AssuranceResult:
        """Turn the provider's one-time result token (from the app) into a checked result;
        raise ValueError when the token is not valid."""
        ...


def provider(app: Flask | None = None) -> IdentityProvider | None:
    """The configured provider, made once per app; None when none is plugged in."""
    app = app or current_app
    if "identity_provider" not in app.extensions:
        target = app.config.get("IDENTITY_PROVIDER") or os.environ.get("IDENTITY_PROVIDER")
        made = None
        if target:
            module, _, factory = target.partition(":")
            made = getattr(importlib.import_module(module), factory)(app)
        app.extensions["identity_provider"] = made
    return app.extensions["identity_provider"]


def _cipher() -> AESGCM:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"coproduction-platform/identity-assurance",
        info=b"ci-di/v1",
    )
    return AESGCM(hkdf.derive(current_app.config["SECRET_KEY"].encode("utf-8")))


def _seal(value: str | None, user_id: str) -> bytes | None:
    if value is None:
        return None
    nonce = os.urandom(12)
    return nonce + _cipher().encrypt(nonce, value.encode("utf-8"), user_id.encode("ascii"))


def unseal(blob: bytes | None, user_id: str) -> str | None:
    """Decrypt a stored CI or DI (for a duplicate-account check a municipality may add)."""
    if blob is None:
        return None
    return _cipher().decrypt(blob[:12], blob[12:], user_id.encode("ascii")).decode("utf-8")


def record_assurance(*, user: User, result_token: str) -> IdentityAssurance:
    """Check the token with the plugged-in provider and store the result on the account."""
    plugged = provider()
    if plugged is None:
        raise PermissionDenied("No identity provider is configured.", code="permission_denied")
    try:
        result = plugged.verify(result_token)
    except ValueError as error:
        raise ValidationFailed(
            "The identity check failed.", fields={"result_token": [str(error)]}
        ) from error
    for name in ("ci", "di"):
        value = getattr(result, name)
        if value is not None and _RRN.search(value):
            # A provider bug must not make us store a resident registration number.
            raise ValidationFailed(
                "The provider answered something that is not a CI/DI.",
                fields={"result_token": [f"{name} looks like a resident registration number."]},
            )
    if result.level not in LEVELS:
        raise ValidationFailed("Unknown assurance level.", fields={"result_token": ["level"]})
    row = db.session.get(IdentityAssurance, user.id) or IdentityAssurance(user_id=user.id)
    row.provider = result.provider[:40]
    row.level = result.level
    row.verified_at = result.verified_at
    row.ci_encrypted = _seal(result.ci, user.id)
    row.di_encrypted = _seal(result.di, user.id)
    db.session.add(row)
    db.session.flush()
    record_audit(
        actor=user,
        action="privacy.identity_assured",
        target_type="user",
        target_id=user.id,
        municipality_id=user.municipality_id,
        details={"provider": row.provider, "level": row.level},
    )
    return row


def level_of(user_id: str) -> int:
    """The account's assurance level (1: nothing checked beyond sign-up)."""
    return (
        db.session.scalar(
            sa.select(IdentityAssurance.level).where(IdentityAssurance.user_id == user_id)
        )
        or 1
    )


def set_requirement(
    *, actor: User, target_type: str, target_id: str, municipality_id: str, level: int
) -> AssuranceRequirement:
    """An official requires a level for an activity or a committee of their municipality."""
    if not is_official_of(actor, municipality_id):
        raise PermissionDenied("Only the municipality's officials set this.")
    row = db.session.get(AssuranceRequirement, (target_type, target_id)) or AssuranceRequirement(
        target_type=target_type, target_id=target_id
    )
    row.level = level
    db.session.add(row)
    db.session.flush()
    return row


def ensure_level(*, user_id: str, target_type: str, target_id: str) -> None:
    """Refuse (403 `assurance_level_required`) a citizen below what the target requires."""
    required = db.session.scalar(
        sa.select(AssuranceRequirement.level).where(
            AssuranceRequirement.target_type == target_type,
            AssuranceRequirement.target_id == target_id,
        )
    )
    if required is not None and level_of(user_id) < required:
        raise PermissionDenied(
            f"Identity assurance level {required} is required.",
            code="assurance_level_required",
            details={"required_level": required},
        )
