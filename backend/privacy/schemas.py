"""Schemas of the personal-data API: consents, guardian consent, access records, exports."""

from __future__ import annotations

from marshmallow import INCLUDE, fields, validate

from backend.privacy.consents import CONSENT_TEXTS
from backend.privacy.models import AccessAction, ConsentChannel, ExportStatus, GuardianMethod
from backend.schemas import Id, InputSchema, OutputSchema, PageArgsSchema, SeoulDateTime, Text

_PURPOSE = validate.OneOf(sorted(CONSENT_TEXTS))


def _enum(enum_class, **kwargs):  # type: ignore[no-untyped-def]
    return fields.Enum(enum_class, by_value=True, **kwargs)


class ConsentDecisionSchema(InputSchema):
    """One purpose the citizen decided on, with the version of the text they were shown."""

    purpose = fields.String(
        required=True, validate=_PURPOSE, metadata={"example": "marketing_push"}
    )
    version = Text(16, min_length=1, required=True, metadata={"example": "2026-12-01"})
    granted = fields.Boolean(required=True)


class ConsentsUpdateSchema(InputSchema):
    consents = fields.List(
        fields.Nested(ConsentDecisionSchema),
        required=True,
        validate=validate.Length(min=1, max=len(CONSENT_TEXTS)),
    )
    channel = _enum(ConsentChannel, load_default=ConsentChannel.APP)


class ConsentTextSchema(OutputSchema):
    """A purpose's current text, for the sign-up and re-consent screens."""

    purpose = fields.String(required=True)
    version = fields.String(required=True)
    required = fields.Boolean(required=True)
    title_ko = fields.String(required=True)
    title_en = fields.String(required=True)
    body_ko = fields.String(required=True)


class ConsentStateSchema(OutputSchema):
    """Where the caller stands on one purpose."""

    purpose = fields.String(required=True)
    required = fields.Boolean(required=True)
    granted = fields.Boolean(required=True)
    version = fields.String(allow_none=True, required=True)
    current_version = fields.String(required=True)
    outdated = fields.Boolean(
        required=True,
        metadata={"description": "Ask again: never decided, or the text changed since."},
    )
    decided_at = SeoulDateTime(allow_none=True, required=True)
    channel = _enum(ConsentChannel, allow_none=True, required=True)


class GuardianConsentCreateSchema(InputSchema):
    method = _enum(GuardianMethod, required=True)
    relation = Text(20, min_length=1, required=True, metadata={"example": "모"})


class GuardianConsentSchema(OutputSchema):
    id = Id(required=True)
    user_id = Id(required=True)
    method = _enum(GuardianMethod, required=True)
    relation = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class AccessRecordArgsSchema(PageArgsSchema):
    subject_id = Id(
        load_default=None, metadata={"description": "Only records that held this citizen."}
    )
    actor_id = Id(load_default=None)
    action = _enum(AccessAction, load_default=None)
    resource = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.AwareDateTime(format="iso", load_default=None)
    until = fields.AwareDateTime(format="iso", load_default=None)


class AccessRecordSchema(OutputSchema):
    id = Id(required=True)
    actor_id = Id(allow_none=True, required=True)
    actor_role = fields.String(allow_none=True, required=True)
    municipality_id = Id(allow_none=True, required=True)
    address = fields.String(allow_none=True, required=True)
    action = _enum(AccessAction, required=True)
    resource = fields.String(required=True)
    resource_id = fields.String(allow_none=True, required=True)
    subject_count = fields.Integer(required=True)
    reason = fields.String(allow_none=True, required=True)
    created_at = SeoulDateTime(required=True)


class ReviewArgsSchema(InputSchema):
    month = fields.String(
        required=True,
        # Years 1900-2099: the review reaches six months back and one forward.
        validate=validate.Regexp(r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"),
        metadata={"example": "2026-11"},
    )


class ReviewFlagSchema(OutputSchema):
    actor_id = Id(allow_none=True, required=True)
    kind = fields.String(
        required=True,
        metadata={
            "description": "`export_volume` (far above the account's usual) or "
            "`off_hours` (outside 08-20 Asia/Seoul, or a weekend)."
        },
    )
    detail = fields.String(required=True)
    count = fields.Integer(required=True)


class ReviewSchema(OutputSchema):
    month = fields.String(required=True)
    records = fields.Integer(required=True)
    exports = fields.Integer(required=True)
    flags = fields.List(fields.Nested(ReviewFlagSchema), required=True)


class DataExportSchema(OutputSchema):
    id = Id(required=True)
    status = _enum(ExportStatus, required=True)
    created_at = SeoulDateTime(required=True)
    ready_at = SeoulDateTime(allow_none=True, required=True)
    expires_at = SeoulDateTime(allow_none=True, required=True)
    downloaded_at = SeoulDateTime(allow_none=True, required=True)


class ProfileUpdateSchema(InputSchema):
    """What citizens change themselves; any other field answers 422 `field_not_self_editable`
    (their municipality's officials correct it on request)."""

    class Meta:
        unknown = INCLUDE

    display_name = Text(50, min_length=1)
    locale = fields.String(validate=validate.OneOf(("ko", "en")))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(
        allow_none=True,
        validate=validate.Regexp(
            r"^\+?[0-9][0-9 -]{6,18}[0-9]$", error="Not a valid phone number."
        ),
    )


class DeletionSchema(InputSchema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class ExportArgsSchema(PageArgsSchema):
    """`?format=csv&reason=...` of a staff list that holds personal data."""

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    reason = Text(
        200,
        load_default=None,
        metadata={
            "description": "Why the list is downloaded: required with `format=csv` (else 422 "
            "`reason_required`); kept in the access records."
        },
    )


_exportable: dict[str, type] = {}


def exportable(args_schema: type) -> type:
    """A list's query schema plus `format` and `reason` (the download of it as CSV)."""
    name = args_schema.__name__.removesuffix("Schema") + "ExportSchema"
    if name not in _exportable:
        _exportable[name] = type(name, (args_schema, ExportArgsSchema), {})
    return _exportable[name]


class ExportDownloadArgsSchema(InputSchema):
    table = fields.String(
        load_default=None,
        validate=validate.OneOf(("participations", "rewards")),
        metadata={"description": "One table as CSV instead of the whole JSON document."},
    )


class AssuranceCreateSchema(InputSchema):
    result_token = Text(4096, min_length=1, required=True)


class AssuranceSchema(OutputSchema):
    """The caller's identity check: never the CI or DI themselves."""

    provider = fields.String(required=True)
    level = fields.Integer(required=True)
    verified_at = SeoulDateTime(required=True)


class AssuranceRequirementSchema(OutputSchema):
    level = fields.Integer(
        required=True,
        validate=validate.Range(1, 3),
        metadata={"description": "1 sign-up only, 2 carrier / 간편인증 / i-PIN, 3 in person."},
    )


class DormancyPolicySchema(OutputSchema):
    municipality_id = Id(dump_only=True)
    inactive_months = fields.Integer(
        required=True,
        validate=validate.Range(1, 120),
        metadata={"description": "Months without a login before the account becomes dormant."},
    )
    action = fields.String(
        required=True,
        validate=validate.OneOf(("restrict", "delete")),
        metadata={"description": "`restrict`: logins stop until officials reactivate; `delete`."},
    )
    notice_days = fields.Integer(
        required=True,
        validate=validate.Range(1, 90),
        metadata={"description": "Days before that the notice goes out (inbox and push)."},
    )
    updated_at = SeoulDateTime(dump_only=True)
