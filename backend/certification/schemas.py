"""Certification schemas, per audience: the holder, officials, and the public verifier."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from backend.certification.models import (
    Benefit,
    CertificateKind,
    CertificateStatus,
    IssueReason,
)
from backend.certification.token import ISSUER_PATTERN, VerificationStatus
from backend.identity.schemas import MunicipalitySchema, UserPublicSchema
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDate,
    SeoulDateTime,
    Text,
)

#: Longest scanned text accepted; longer than any token, so over-long tokens read `malformed`.
MAX_VERIFY_TEXT = 8192


def _kind(**kwargs: object) -> fields.Enum:
    return fields.Enum(CertificateKind, by_value=fields.String, **kwargs)


def _benefit_names(**kwargs: Any) -> fields.List:
    """Benefits as stored (their values), for output."""
    return fields.List(
        fields.String(validate=validate.OneOf([benefit.value for benefit in Benefit])),
        metadata={"description": "priority_meeting_access, committee_eligibility."},
        **kwargs,
    )


def _benefits(**kwargs: Any) -> fields.List:
    kwargs.setdefault(
        "metadata", {"description": "priority_meeting_access, committee_eligibility."}
    )
    return fields.List(
        fields.Enum(Benefit, by_value=fields.String),
        validate=validate.Length(max=len(Benefit)),
        **kwargs,
    )


# ---- criteria -------------------------------------------------------------------------------


class CertificationCriteriaSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    kind = _kind(required=True)
    min_participations = fields.Integer(required=True, metadata={"example": 5})
    min_stages = fields.Integer(required=True, metadata={"example": 3})
    min_hours = fields.Integer(allow_none=True, required=True)
    window_months = fields.Integer(required=True, metadata={"example": 12})
    validity_months = fields.Integer(required=True, metadata={"example": 24})
    auto_issue = fields.Boolean(required=True)
    nomination_allowed = fields.Boolean(required=True)
    benefits = _benefit_names(required=True)
    is_active = fields.Boolean(required=True)
    created_at = SeoulDateTime(required=True)


def _count(maximum: int, **kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=maximum), **kwargs)


def _months(**kwargs: object) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=120), **kwargs)


class CertificationCriteriaCreateSchema(InputSchema):
    kind = _kind(load_default=CertificateKind.MODEL_CITIZEN)
    min_participations = _count(1000, required=True, metadata={"example": 5})
    min_stages = _count(4, load_default=0, metadata={"example": 3})
    min_hours = _count(100_000, load_default=None, allow_none=True)
    window_months = _months(required=True, metadata={"example": 12})
    validity_months = _months(required=True, metadata={"example": 24})
    auto_issue = fields.Boolean(load_default=True)
    nomination_allowed = fields.Boolean(load_default=True)
    benefits = _benefits(load_default=list)
    is_active = fields.Boolean(load_default=True)


class CertificationCriteriaUpdateSchema(InputSchema):
    min_participations = _count(1000)
    min_stages = _count(4)
    min_hours = _count(100_000, allow_none=True)
    window_months = _months()
    validity_months = _months()
    auto_issue = fields.Boolean()
    nomination_allowed = fields.Boolean()
    benefits = _benefits()
    is_active = fields.Boolean()


# ---- progress -------------------------------------------------------------------------------


class RequirementSchema(OutputSchema):
    name = fields.String(
        required=True,
        validate=validate.OneOf(("participations", "stages", "hours")),
        metadata={"description": "participations, stages or hours."},
    )
    required = fields.Float(required=True)
    actual = fields.Float(required=True)
    met = fields.Boolean(required=True)
    missing = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Stages without a participation yet, while stages are short."},
    )


class CertificateBriefSchema(OutputSchema):
    id = Id(required=True)
    serial_number = fields.String(required=True)
    status = fields.Enum(
        CertificateStatus, by_value=fields.String, attribute="current_status", required=True
    )
    valid_until = SeoulDate(required=True)


class CertificationProgressSchema(OutputSchema):
    criteria_id = Id(attribute="criteria.id", required=True)
    kind = _kind(required=True)
    met = fields.Boolean(required=True, metadata={"description": "Every requirement is met."})
    window_start = SeoulDateTime(required=True)
    window_months = fields.Integer(attribute="criteria.window_months", required=True)
    nomination_allowed = fields.Boolean(attribute="criteria.nomination_allowed", required=True)
    requirements = fields.List(fields.Nested(RequirementSchema), required=True)
    certificate = fields.Nested(CertificateBriefSchema, allow_none=True, required=True)


class CertificationProgressListSchema(OutputSchema):
    items = fields.List(fields.Nested(CertificationProgressSchema), required=True)


# ---- certificates ---------------------------------------------------------------------------


class _CertificateBase(OutputSchema):
    id = Id(required=True)
    serial_number = fields.String(required=True, metadata={"example": "11680-2026-000042"})
    issue_number = fields.String(
        attribute="printed_issue_number",
        required=True,
        metadata={"description": "발급번호, printed on paper.", "example": "1234-5678-9012-3452"},
    )
    kind = _kind(required=True)
    status = fields.Enum(
        CertificateStatus, by_value=fields.String, attribute="current_status", required=True
    )
    holder_masked = fields.String(required=True, metadata={"example": "홍*동"})
    municipality = fields.Nested(MunicipalitySchema, required=True)
    issued_at = SeoulDateTime(required=True)
    expires_at = SeoulDateTime(
        required=True, metadata={"description": "First moment it is no longer valid."}
    )
    issued_on = SeoulDate(required=True)
    valid_until = SeoulDate(required=True, metadata={"description": "Last valid day."})
    renewed_at = SeoulDateTime(allow_none=True, required=True)
    benefits = _benefit_names(required=True)
    revoked_at = SeoulDateTime(allow_none=True, required=True)
    revocation_reason = fields.String(allow_none=True, required=True)


class CertificateSchema(_CertificateBase):
    """A certificate as its holder sees it, with the QR text to draw the code offline."""

    holder_name = fields.String(attribute="holder.display_name", required=True)
    qr_text = fields.String(
        required=True,
        metadata={"description": "The exact text of the QR code (draw it yourself, level M)."},
    )


class CertificateStaffSchema(_CertificateBase):
    """A certificate as officials see it."""

    user = fields.Nested(UserPublicSchema, attribute="holder", required=True)
    certificate_code = fields.String(
        attribute="public_id", required=True, metadata={"description": "The `c` claim."}
    )
    issue_reason = fields.Enum(IssueReason, by_value=fields.String, required=True)
    issued_by_id = Id(allow_none=True, required=True)
    revoked_by_id = Id(allow_none=True, required=True)
    replaces_id = Id(allow_none=True, required=True)
    key_kid = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class CertificateListArgsSchema(PageArgsSchema):
    status = fields.Enum(CertificateStatus, by_value=fields.String, load_default=None)
    kind = _kind(load_default=None)
    user_id = Id(load_default=None)


class MyCertificateListArgsSchema(PageArgsSchema):
    status = fields.Enum(CertificateStatus, by_value=fields.String, load_default=None)


class CertificateIssueSchema(InputSchema):
    user_id = Id(required=True)
    kind = _kind(load_default=CertificateKind.MODEL_CITIZEN)
    benefits = _benefits(
        load_default=None, allow_none=True, metadata={"description": "Default: the criteria's."}
    )


class ReasonSchema(InputSchema):
    reason = Text(200, min_length=1, required=True, metadata={"example": "분실 신고"})


class QrArgsSchema(ma.Schema):
    level = fields.String(
        load_default="M",
        validate=validate.OneOf(("M", "Q")),
        metadata={"description": "Error correction: M for screens (default), Q for paper."},
    )

    class Meta:
        unknown = ma.EXCLUDE


# ---- verification ---------------------------------------------------------------------------


class VerifyRequestSchema(InputSchema):
    text = fields.String(
        required=True,
        validate=validate.Length(max=MAX_VERIFY_TEXT),
        metadata={"description": "The scanned QR text (CPC1:/...) or a bare token."},
    )


class VerifiedMunicipalitySchema(OutputSchema):
    code = fields.String(required=True, metadata={"example": "11680"})
    name = fields.String(allow_none=True, required=True, metadata={"example": "강남구"})


class CertificateVerificationSchema(OutputSchema):
    """The public answer: the status, when it was checked, and only what the QR itself shows."""

    status = fields.Enum(VerificationStatus, by_value=fields.String, required=True)
    checked_at = SeoulDateTime(required=True)
    revocations_as_of = SeoulDateTime(
        metadata={
            "description": "When the server last confirmed its keys and revocations current: "
            "equal to checked_at (within seconds) normally, older while its database is "
            "unreachable and it answers from memory."
        }
    )
    holder = fields.String(metadata={"description": "Masked name, e.g. 홍*동.", "example": "홍*동"})
    kind = _kind()
    municipality = fields.Nested(VerifiedMunicipalitySchema)
    issued_at = SeoulDateTime()
    expires_at = SeoulDateTime()


class IssueNumberLookupSchema(InputSchema):
    number = fields.String(
        required=True,
        validate=validate.Length(max=64),
        metadata={
            "description": "The issue number (발급번호) printed on the paper certificate.",
            "example": "1234-5678-9012-3452",
        },
    )


class IssueNumberVerificationSchema(CertificateVerificationSchema):
    """The answer for an issue number: as for the QR, with the number in print form."""

    issue_number = fields.String(required=True, metadata={"example": "1234-5678-9012-3452"})


class JwkSchema(OutputSchema):
    kty = fields.String(required=True, metadata={"example": "EC"})
    crv = fields.String(required=True, metadata={"example": "P-256"})
    x = fields.String(required=True)
    y = fields.String(required=True)
    kid = fields.String(required=True)
    alg = fields.String(required=True, metadata={"example": "ES256"})
    use = fields.String(required=True, metadata={"example": "sig"})


class JwksSchema(OutputSchema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class StatusListsSchema(OutputSchema):
    items = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "One signed status list (compact JWS) per issuer."},
    )


class RevocationArgsSchema(ma.Schema):
    issuer = fields.String(
        load_default=None,
        validate=validate.Regexp("^" + ISSUER_PATTERN.pattern + "$"),
        metadata={"description": "Only this issuer's list (a municipality code)."},
    )

    class Meta:
        unknown = ma.EXCLUDE
