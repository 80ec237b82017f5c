"""HTTP for model-citizen certificates: criteria, progress, issuing, QR images, verification."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request

from backend.api.access_log import log_access, user_ids
from backend.api.auth import current_caller, public, requires
from backend.api.blueprint import Blueprint
from backend.api.errors import error_response
from backend.api.transaction import read_only
from backend.certification import services, signing
from backend.certification.schemas import (
    MAX_VERIFY_TEXT,
    CertificateIssueSchema,
    CertificateListArgsSchema,
    CertificateSchema,
    CertificateStaffSchema,
    CertificateVerificationSchema,
    CertificationCriteriaCreateSchema,
    CertificationCriteriaSchema,
    CertificationCriteriaUpdateSchema,
    CertificationProgressListSchema,
    IssueNumberLookupSchema,
    IssueNumberVerificationSchema,
    JwksSchema,
    MyCertificateListArgsSchema,
    QrArgsSchema,
    ReasonSchema,
    RevocationArgsSchema,
    StatusListsSchema,
    VerifyRequestSchema,
)
from backend.errors import RateLimited, ValidationFailed
from backend.extensions import db
from backend.identity.services import get_user_for
from backend.permissions import Role
from backend.privacy.models import AccessAction
from backend.ratelimit import Limiter, token_bucket
from backend.schemas import PageArgsSchema, page_of

blp = Blueprint(
    "certification", __name__, url_prefix="/api/v1", description="Model-citizen certificates"
)
#: Outside /api/v1 because verifier apps look for it at the standard place.
wellknown = Blueprint("wellknown", __name__, description="Public keys for offline verification")

STAFF = (Role.OFFICIAL, Role.ADMIN, Role.ANALYST)
_IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _image_doc(fmt: str) -> dict[str, Any]:
    return {
        "responses": {
            "200": {
                "description": f"The QR code as {fmt.upper()} (revalidate with If-None-Match).",
                "content": {_IMAGE_TYPES[fmt]: {"schema": {"type": "string", "format": "binary"}}},
            },
            "304": {"description": "Not modified: the image behind the ETag is unchanged."},
        }
    }


# ---- criteria -------------------------------------------------------------------------------


@blp.route("/certification-criteria", methods=["GET"])
@requires(Role.CITIZEN, *STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(CertificationCriteriaSchema))
def list_criteria(args: dict[str, Any]) -> Any:
    """Certification criteria of the caller's municipality (all for the ministry)."""
    return services.list_criteria(viewer=current_caller(), **args)


@blp.route("/certification-criteria", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(CertificationCriteriaCreateSchema)
@blp.response(201, CertificationCriteriaSchema)
def create_criteria(data: dict[str, Any]) -> Any:
    """Set the criteria of a kind of certificate: N participations, K stages, M months ..."""
    return services.create_criteria(actor=current_caller(), **data)


@blp.route("/certification-criteria/<criteria_id>", methods=["GET"])
@requires(Role.CITIZEN, *STAFF)
@blp.response(200, CertificationCriteriaSchema)
def get_criteria(criteria_id: str) -> Any:
    """One set of certification criteria."""
    return services.get_criteria(viewer=current_caller(), criteria_id=criteria_id)


@blp.route("/certification-criteria/<criteria_id>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(CertificationCriteriaUpdateSchema)
@blp.response(200, CertificationCriteriaSchema)
def update_criteria(data: dict[str, Any], criteria_id: str) -> Any:
    """Change the criteria (certificates already issued keep their terms)."""
    actor = current_caller()
    criteria = services.get_criteria(viewer=actor, criteria_id=criteria_id)
    return services.update_criteria(actor=actor, criteria=criteria, **data)


@blp.route("/me/certification-progress", methods=["GET"])
@requires(Role.CITIZEN)
@blp.response(200, CertificationProgressListSchema)
def my_progress() -> Any:
    """The caller's progress toward each certificate: what is met and what is missing."""
    return {"items": services.progress_for(user=current_caller())}


# ---- the holder's certificates --------------------------------------------------------------


@blp.route("/me/certificates", methods=["GET"])
@requires(Role.CITIZEN)
@blp.arguments(MyCertificateListArgsSchema, location="query")
@blp.response(200, page_of(CertificateSchema))
def my_certificates(args: dict[str, Any]) -> Any:
    """The caller's certificates, newest first, each with its QR text."""
    return services.list_my_certificates(user=current_caller(), **args)


@blp.route("/me/certificates/<certificate_id>", methods=["GET"])
@requires(Role.CITIZEN)
@blp.response(200, CertificateSchema)
def my_certificate(certificate_id: str) -> Any:
    """One of the caller's certificates."""
    return services.get_own_certificate(user=current_caller(), certificate_id=certificate_id)


@blp.route("/me/certificates/<certificate_id>/renew", methods=["POST"])
@requires(Role.CITIZEN)
@blp.response(200, CertificateSchema)
def renew_my_certificate(certificate_id: str) -> Any:
    """Renew the caller's certificate: opens shortly before the expiry, if the criteria are met."""
    caller = current_caller()
    certificate = services.get_own_certificate(user=caller, certificate_id=certificate_id)
    return services.renew_certificate(certificate=certificate, actor=caller)


@blp.route("/me/certificates/<certificate_id>/reissue", methods=["POST"])
@requires(Role.CITIZEN)
@blp.arguments(ReasonSchema)
@blp.response(201, CertificateSchema)
def reissue_my_certificate(data: dict[str, Any], certificate_id: str) -> Any:
    """Report the certificate lost: it is revoked and a new one (new QR, new serial) is issued."""
    caller = current_caller()
    certificate = services.get_own_certificate(user=caller, certificate_id=certificate_id)
    return services.reissue_certificate(certificate=certificate, actor=caller, **data)


# ---- officials ------------------------------------------------------------------------------


@blp.route("/certificates", methods=["GET"])
@requires(*STAFF)
@blp.arguments(CertificateListArgsSchema, location="query")
@blp.response(200, page_of(CertificateStaffSchema))
def list_certificates(args: dict[str, Any]) -> Any:
    """Certificates of the caller's municipality, newest first."""
    page = services.list_certificates(viewer=current_caller(), **args)
    log_access(AccessAction.VIEW, "certificates.list", user_ids(page.items))
    return page


@blp.route("/certificates", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(CertificateIssueSchema)
@blp.response(201, CertificateStaffSchema)
def issue_certificate(data: dict[str, Any]) -> Any:
    """Issue a certificate to a citizen: on the criteria, or as a nomination where allowed."""
    actor = current_caller()
    user = get_user_for(viewer=actor, user_id=data.pop("user_id"))
    return services.issue_certificate(user=user, actor=actor, **data)


@blp.route("/certificates/<certificate_id>", methods=["GET"])
@requires(*STAFF)
@blp.response(200, CertificateStaffSchema)
def get_certificate(certificate_id: str) -> Any:
    """One certificate of the caller's municipality."""
    certificate = services.get_certificate_for(
        viewer=current_caller(), certificate_id=certificate_id
    )
    log_access(AccessAction.VIEW, "certificate", [certificate.user_id], resource_id=certificate_id)
    return certificate


@blp.route("/certificates/<certificate_id>/revoke", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ReasonSchema)
@blp.response(200, CertificateStaffSchema)
def revoke_certificate(data: dict[str, Any], certificate_id: str) -> Any:
    """Revoke a certificate; scans answer `revoked` on every server within seconds."""
    actor = current_caller()
    certificate = services.get_certificate_for(viewer=actor, certificate_id=certificate_id)
    return services.revoke_certificate(certificate=certificate, actor=actor, **data)


@blp.route("/certificates/<certificate_id>/renew", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.response(200, CertificateStaffSchema)
def renew_certificate(certificate_id: str) -> Any:
    """Extend a certificate by its validity (same serial and id, new expiry and QR)."""
    actor = current_caller()
    certificate = services.get_certificate_for(viewer=actor, certificate_id=certificate_id)
    return services.renew_certificate(certificate=certificate, actor=actor)


@blp.route("/certificates/<certificate_id>/reissue", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ReasonSchema)
@blp.response(201, CertificateStaffSchema)
def reissue_certificate(data: dict[str, Any], certificate_id: str) -> Any:
    """Re-issue after a loss: the old certificate is revoked, a new one replaces it."""
    actor = current_caller()
    certificate = services.get_certificate_for(viewer=actor, certificate_id=certificate_id)
    return services.reissue_certificate(certificate=certificate, actor=actor, **data)


def _qr_response(certificate_id: str, fmt: str, level: str) -> Response:
    source = services.qr_source_for(viewer=current_caller(), certificate_id=certificate_id)
    etag = hashlib.sha256(f"{source.token}|{fmt}|{level}".encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(source.image(fmt=fmt, level=level), mimetype=_IMAGE_TYPES[fmt])
    response.set_etag(etag)
    # The image changes when the certificate is renewed: always revalidate (a 304 is cheap).
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/certificates/<certificate_id>/qr.png", methods=["GET"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.arguments(QrArgsSchema, location="query")
@blp.doc(**_image_doc("png"))
def certificate_qr_png(args: dict[str, Any], certificate_id: str) -> Response:
    """The certificate's QR code as PNG: level M for screens, `?level=Q` for printing."""
    return _qr_response(certificate_id, "png", args["level"])


@blp.route("/certificates/<certificate_id>/qr.svg", methods=["GET"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.arguments(QrArgsSchema, location="query")
@blp.doc(**_image_doc("svg"))
def certificate_qr_svg(args: dict[str, Any], certificate_id: str) -> Response:
    """The certificate's QR code as SVG: level M for screens, `?level=Q` for printing."""
    return _qr_response(certificate_id, "svg", args["level"])


@blp.route("/certificates/<certificate_id>/certificate.pdf", methods=["GET"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.doc(
    responses={
        "200": {
            "description": "The printable certificate: one A4 page, Korean font embedded.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
)
def certificate_pdf(certificate_id: str) -> Response:
    """The certificate to print (A4 PDF): name, kind, municipality, dates, QR at level Q,
    issue number and how to verify. For its holder and the officials of its municipality;
    `409 certificate_revoked` / `certificate_expired` when it is no longer in force."""
    verify_url = request.host_url.rstrip("/") + "/verify/"
    pdf = services.certificate_pdf_for(
        viewer=current_caller(), certificate_id=certificate_id, verify_url=verify_url
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="certificate.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- public verification --------------------------------------------------------------------


def _verify_limiter(app: Flask) -> Limiter:
    limiter = app.extensions.get("certificate_verify_limiter")
    if limiter is None:
        limiter = token_bucket(
            app,
            "certificate_verify",
            rate=app.config["CERTIFICATE_VERIFY_RATE"],
            burst=app.config["CERTIFICATE_VERIFY_BURST"],
        )
        app.extensions["certificate_verify_limiter"] = limiter
    return limiter


def _check_verify_rate(app: Flask) -> None:
    """One verification budget per client address (ProxyFix's), shared by QR and issue number."""
    wait = _verify_limiter(app).retry_after(request.remote_addr or "unknown")
    if wait:
        raise RateLimited("Too many verifications; slow down.", retry_after=wait)


@blp.route("/certificates/verify", methods=["POST"])
@public
@read_only
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": VerifyRequestSchema}},
    }
)
@blp.response(200, CertificateVerificationSchema)
def verify_certificate() -> Response:
    """Check a scanned certificate QR: `valid`, `expired`, `revoked`, `not_yet_valid`,
    `unknown_key`, `invalid_signature` or `malformed`, with what the certificate shows.

    Public (no token needed) and rate-limited per client address. Answers come from keys and
    revocations held in memory, never more than a few seconds old while the database answers;
    when it does not, from the last copy, and `revocations_as_of` says from when.
    """
    # The hot path: no schema machinery, no database; the body is parsed and checked by hand.
    # The client address is the proxy-corrected one (werkzeug's ProxyFix, TRUSTED_PROXY_COUNT).
    app = current_app._get_current_object()
    _check_verify_rate(app)
    body = request.get_json(force=True, silent=True)
    if body is None:
        return error_response(400, "malformed_json", "The body is not valid JSON.")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or len(text) > MAX_VERIFY_TEXT or len(body) != 1:
        raise ValidationFailed(fields=_verify_field_errors(body))
    # json.dumps straight into a response: Flask's jsonify adds nothing needed here.
    answer = services.verify_text(text, app=app)
    g.verification_result = answer["status"]  # counted by the metrics hook
    return app.response_class(
        json.dumps(answer, ensure_ascii=False, separators=(",", ":")), mimetype="application/json"
    )


def _verify_field_errors(body: Any) -> dict[str, list[str]]:
    if not isinstance(body, dict):
        return {"_schema": ["Invalid input type."]}
    errors = {name: ["Unknown field."] for name in body if name != "text"}
    text = body.get("text")
    if "text" not in body:
        errors["text"] = ["Missing data for required field."]
    elif not isinstance(text, str):
        errors["text"] = ["Not a valid string."]
    elif len(text) > MAX_VERIFY_TEXT:
        errors["text"] = [f"Longer than maximum length {MAX_VERIFY_TEXT}."]
    return errors


@blp.route("/certificates/lookup", methods=["POST"])
@public
@read_only
@blp.arguments(IssueNumberLookupSchema)
@blp.response(200, IssueNumberVerificationSchema)
def lookup_certificate(data: dict[str, Any]) -> Response:
    """Check a certificate by its printed issue number (발급번호), when only paper is at hand.

    Answers exactly what verifying the certificate's QR answers (same statuses, same masked
    fields), plus the number. Public, and it shares the verification rate limit of the caller's
    address; issue numbers are 16 random digits with a check digit, so they cannot be walked.
    An unknown number is `404 certificate_not_found`, a mistyped one `422 issue_number_invalid`.
    """
    app = current_app._get_current_object()
    _check_verify_rate(app)
    # The answer is verify's JSON as it is (status as a plain string), not re-dumped.
    return jsonify(services.lookup_issue_number(data["number"], app=app))


def _publish_first_key() -> None:
    # A GET commits nothing by itself (backend.api.transaction); the first key is the one
    # write a publication may make, once per deployment.
    if signing.ensure_published_key():
        db.session.commit()


@blp.route("/certificates/revocations", methods=["GET"])
@public
@blp.arguments(RevocationArgsSchema, location="query")
@blp.response(200, StatusListsSchema)
def revocations(args: dict[str, Any]) -> Response:
    """Signed revocation status lists, one per issuer, for offline verifiers (see the guide)."""
    _publish_first_key()
    response = jsonify({"items": services.revocation_lists(issuer=args["issuer"])})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@wellknown.route("/.well-known/jwks.json", methods=["GET"])
@public
@wellknown.response(200, JwksSchema)
def jwks() -> Response:
    """The public keys certificates and status lists are signed with (JWKS, ES256)."""
    _publish_first_key()
    response = jsonify(services.jwks_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
