"""Certification services: criteria, progress, issuing, renewal, re-issue, revocation, keys,
verification and the public questions other domains ask (has_active_certificate ...).

Certificates are issued automatically on the transaction that confirms the participation that
completes the criteria (`issue_on_participation_confirmed`, subscribed to
PARTICIPATION_CONFIRMED), or by an official. Verification never touches the database per scan:
see `registry.py`.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.certification.services import X` keeps working.
"""

from __future__ import annotations

from backend.certification.certificates import (
    certificate_benefits,
    get_certificate_for,
    get_own_certificate,
    has_active_certificate,
    has_certificate_benefit,
    list_certificates,
    list_my_certificates,
)
from backend.certification.criteria_admin import (
    active_criteria,
    create_criteria,
    get_criteria,
    list_criteria,
    update_criteria,
)
from backend.certification.issuing import (
    expire_certificates,
    issue_certificate,
    issue_on_participation_confirmed,
    reissue_certificate,
    renew_certificate,
    revoke_certificate,
)
from backend.certification.progress import (
    CriteriaProgress,
    progress_for,
)
from backend.certification.signing import (
    active_signing_key,
    bump_state_version,
    ensure_signing_key,
    list_signing_keys,
    log,
    registry,
    rotate_signing_keys,
)
from backend.certification.verification import (
    QrSource,
    jwks_document,
    qr_source_for,
    revocation_lists,
    verification_answer,
    verify_text,
)

__all__ = [
    "log",
    "registry",
    "bump_state_version",
    "active_signing_key",
    "ensure_signing_key",
    "rotate_signing_keys",
    "list_signing_keys",
    "list_criteria",
    "get_criteria",
    "create_criteria",
    "update_criteria",
    "active_criteria",
    "CriteriaProgress",
    "progress_for",
    "list_certificates",
    "list_my_certificates",
    "get_certificate_for",
    "get_own_certificate",
    "has_active_certificate",
    "certificate_benefits",
    "has_certificate_benefit",
    "issue_certificate",
    "renew_certificate",
    "revoke_certificate",
    "reissue_certificate",
    "issue_on_participation_confirmed",
    "expire_certificates",
    "verify_text",
    "verification_answer",
    "jwks_document",
    "revocation_lists",
    "QrSource",
    "qr_source_for",
]
