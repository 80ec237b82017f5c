"""Certificates (officials; the ministry reads): criteria, holders, issuing, signing-key status."""

from __future__ import annotations

from functools import partial
from typing import Any

import marshmallow as ma
from flask import request

from backend.api import certification as api
from backend.certification import services
from backend.certification.models import CertificateStatus
from backend.certification.schemas import (
    CertificateIssueSchema,
    CertificateListArgsSchema,
    CertificationCriteriaUpdateSchema,
)
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import submit
from backend.console.pages import done, page, page_args
from backend.identity.services import get_user_for


def _certificates_page(status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    raw = request.args.get("status")
    try:
        args = CertificateListArgsSchema().load({"status": raw} if raw else {})
    except ma.ValidationError:
        args = {}
    args.update(page_args())
    return page(
        "certificates.html",
        status,
        criteria=services.list_criteria(viewer=viewer, limit=100, cursor=None).items,
        result=services.list_certificates(viewer=viewer, **args),
        keys=services.list_signing_keys(),
        status_filter=raw,
        statuses=list(CertificateStatus),
        **context,
    )


@bp.route("/certificates")
@mirrors(api.list_certificates, api.list_criteria)
def certificates() -> Any:
    """Criteria, holders with their status, and the signing keys."""
    return _certificates_page()


@bp.route("/certificates", methods=["POST"])
@mirrors(api.issue_certificate)
def certificate_issue() -> Any:
    """Issue a certificate to a citizen (on the criteria, or as a nomination where allowed)."""
    actor = current_user()
    saved, errors = submit(
        CertificateIssueSchema(),
        partial(_issue, actor=actor),
        lambda _: done("console.certificates"),
    )
    return saved or _certificates_page(422, errors=errors)


def _issue(*, actor: Any, user_id: str, **data: Any) -> Any:
    # The citizen is looked up as the API view does (scoped to what the official may see).
    user = get_user_for(viewer=actor, user_id=user_id)
    return services.issue_certificate(user=user, actor=actor, **data)


@bp.route("/certification-criteria/<criteria_id>", methods=["POST"])
@mirrors(api.update_criteria)
def criteria_update(criteria_id: str) -> Any:
    """Change the criteria (certificates already issued keep their terms)."""
    actor = current_user()
    criteria = services.get_criteria(viewer=actor, criteria_id=criteria_id)
    flags = {name: request.form.get(name) == "1" for name in ("auto_issue", "is_active")}
    saved, errors = submit(
        CertificationCriteriaUpdateSchema(),
        partial(services.update_criteria, actor=actor, criteria=criteria),
        lambda _: done("console.certificates"),
        **flags,
    )
    return saved or _certificates_page(422, errors=errors)
