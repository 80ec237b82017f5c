"""Identity schemas: per audience (self, staff, public), never one schema blanked by hand."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from backend.permissions import STAFF_ROLES, Role
from backend.privacy.fields import MaskedEmail, MaskedName, MaskedPhone
from backend.privacy.models import ConsentChannel
from backend.privacy.schemas import ConsentDecisionSchema
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDateTime,
    Text,
    enum_field,
)

LOCALES = ("ko", "en")
_PASSWORD = {
    "validate": validate.Length(min=10, max=128),
    "metadata": {"description": "10-128 characters.", "example": "correct-horse-42"},
}
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{6,18}[0-9]$", error="Not a valid phone number.")


class MunicipalitySchema(OutputSchema):
    id = Id(required=True)
    code = fields.String(required=True, metadata={"example": "11680"})
    name = fields.String(required=True, metadata={"example": "강남구"})
    name_en = fields.String(allow_none=True)
    region = fields.String(required=True, metadata={"example": "서울특별시"})


class MunicipalityCreateSchema(InputSchema):
    code = Text(16, min_length=2, required=True)
    name = Text(100, min_length=1, required=True)
    name_en = Text(100, load_default=None, allow_none=True)
    region = Text(50, min_length=1, required=True)


class _LoginFields(InputSchema):
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(load_default=None, allow_none=True, validate=_PHONE)

    @validates_schema
    def _one_login(self, data: dict, **_kwargs: object) -> None:
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an e-mail or a phone number.", "email")


class _AccountFields(_LoginFields):
    password = fields.String(required=True, load_only=True, **_PASSWORD)
    display_name = Text(50, min_length=1, required=True, metadata={"example": "홍길동"})
    municipality_id = Id(required=True)
    locale = fields.String(load_default="ko", validate=validate.OneOf(LOCALES))


class RegisterSchema(_AccountFields):
    birth_year = fields.Integer(
        required=True,
        validate=validate.Range(1900, 2100),
        metadata={
            "description": "Under 14 (or turning 14 this year): the account stays limited "
            "(reads only) until the municipality records a legal guardian's consent.",
            "example": 1990,
        },
    )
    consents = fields.List(
        fields.Nested(ConsentDecisionSchema),
        required=True,
        metadata={
            "description": "The purposes shown (GET /api/v1/consent-texts) with the version "
            "seen; every required purpose must be granted."
        },
    )
    consent_channel = enum_field(ConsentChannel, load_default=ConsentChannel.APP)


class StaffCreateSchema(_AccountFields):
    role = enum_field(
        Role,
        required=True,
        validate=validate.OneOf(sorted(STAFF_ROLES, key=lambda r: r.value)),
    )
    municipality_id = Id(load_default=None, allow_none=True)


class UserUpdateSchema(InputSchema):
    role = enum_field(Role)
    municipality_id = Id(allow_none=True)
    is_active = fields.Boolean()
    display_name = Text(50, min_length=1)


class LoginSchema(InputSchema):
    identifier = Text(
        254,
        min_length=3,
        required=True,
        metadata={"description": "E-mail or phone number.", "example": "citizen1@gangnam.example"},
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class TokenPairSchema(OutputSchema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})


class AccessTokenSchema(OutputSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})


class UserPublicSchema(OutputSchema):
    """What anyone in the platform may see of a person: the name masked (one rule for all)."""

    id = Id(required=True)
    display_name = MaskedName(required=True)


class UserSelfSchema(OutputSchema):
    """What users see of themselves (nothing masked: it is their own)."""

    id = Id(required=True)
    display_name = fields.String(required=True)
    role = enum_field(Role, required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    locale = fields.String(required=True)
    municipality = fields.Nested(MunicipalitySchema, allow_none=True)
    created_at = SeoulDateTime(required=True)
    birth_year = fields.Integer(allow_none=True)
    limited = fields.Boolean(
        required=True,
        attribute="needs_guardian_consent",
        metadata={"description": "Reads only until a legal guardian's consent is recorded."},
    )


class UserStaffSchema(UserPublicSchema):
    """What staff see of an account they manage: name, e-mail and phone masked like everywhere
    else; an account is managed by its id, and its owner corrects their own contact data."""

    role = enum_field(Role, required=True)
    email = MaskedEmail(allow_none=True)
    phone = MaskedPhone(allow_none=True)
    locale = fields.String(required=True)
    municipality = fields.Nested(MunicipalitySchema, allow_none=True)
    created_at = SeoulDateTime(required=True)
    municipality_id = Id(allow_none=True)
    is_active = fields.Boolean(required=True)
    locked_until = SeoulDateTime(allow_none=True)


class UserListArgsSchema(PageArgsSchema):
    role = enum_field(Role, load_default=None)
    municipality_id = Id(load_default=None)
    q = Text(
        254,
        min_length=1,
        load_default=None,
        metadata={
            "description": "Search: an exact e-mail or phone number, or the start of a name. "
            "Every search is kept in the access records."
        },
    )
