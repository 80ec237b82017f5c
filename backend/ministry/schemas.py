"""Ministry schemas: selected cases, follow-ups and the report, mediation, disputes, courses."""

from __future__ import annotations

from marshmallow import fields, validate

from backend.ministry.models import (
    CourseAudience,
    CourseHost,
    DisputeState,
    EnrolmentStatus,
    MemberRole,
    PartyKind,
    Qualification,
    Side,
    Source,
)
from backend.participation.models import TrainingLevel
from backend.participation.schemas import ReportFormatArgsSchema
from backend.privacy.fields import MaskedName
from backend.schemas import (
    Id,
    InputSchema,
    OutputSchema,
    PageArgsSchema,
    SeoulDate,
    SeoulDateTime,
    Text,
    enum_field,
)

_YEAR = validate.Range(min=2000, max=2100)
_CONTEST_YEAR = validate.Range(min=2015, max=2100)


def _url(**kwargs: object) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500), **kwargs)


# ---- selected cases -------------------------------------------------------------------------


class SelectedCaseCreateSchema(InputSchema):
    project_id = Id(required=True)
    contest_year = fields.Integer(required=True, validate=_CONTEST_YEAR)
    award = Text(100, min_length=1, required=True, metadata={"example": "최우수상"})
    category = Text(100, min_length=1, required=True, metadata={"example": "안전"})
    note = Text(1000, multiline=True, load_default="")


class SelectedCaseUpdateSchema(InputSchema):
    award = Text(100, min_length=1, metadata={"example": "대상"})
    category = Text(100, min_length=1)
    note = Text(1000, multiline=True)


class SelectedCaseListArgsSchema(PageArgsSchema):
    contest_year = fields.Integer(load_default=None, validate=_CONTEST_YEAR)
    municipality_id = Id(load_default=None)


class SelectedCaseSchema(OutputSchema):
    id = Id(required=True)
    project_id = Id(required=True)
    project_title = fields.String(required=True, attribute="project.title")
    municipality_id = Id(required=True)
    contest_year = fields.Integer(required=True)
    award = fields.String(required=True)
    category = fields.String(required=True)
    note = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class FundingCreateSchema(InputSchema):
    year = fields.Integer(required=True, validate=_YEAR)
    amount = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=10**13),
        metadata={"description": "In won (KRW)."},
    )
    purpose = Text(500, min_length=1, required=True)


class FundingSchema(OutputSchema):
    id = Id(required=True)
    year = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    purpose = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class FundingListSchema(OutputSchema):
    items = fields.List(fields.Nested(FundingSchema), required=True)


class FollowUpCreateSchema(InputSchema):
    year = fields.Integer(required=True, validate=_YEAR)
    still_running = fields.Boolean(
        load_default=None,
        metadata={
            "description": "Only if the platform's project dates and status are wrong about "
            "that year (e.g. it ran on off the platform)."
        },
    )
    resident_satisfaction = fields.Float(
        load_default=None,
        validate=validate.Range(min=1, max=5),
        metadata={"description": "Only when no project survey was answered that year (1-5)."},
    )
    note = Text(1000, multiline=True, load_default="")


class FollowUpSchema(OutputSchema):
    id = Id(required=True)
    case_id = Id(required=True)
    year = fields.Integer(required=True)
    still_running = fields.Boolean(required=True)
    still_running_source = enum_field(Source, required=True)
    ordinance_enacted = fields.Boolean(required=True)
    dedicated_department = fields.Boolean(required=True)
    trainings = fields.Integer(required=True)
    participants_trained = fields.Integer(required=True)
    course_completions = fields.Integer(required=True)
    training_satisfaction = fields.Float(allow_none=True, required=True)
    promotions = fields.Integer(required=True)
    promotion_channel_count = fields.Integer(required=True)
    exchanges = fields.Integer(required=True)
    resident_satisfaction = fields.Float(allow_none=True, required=True)
    resident_satisfaction_responses = fields.Integer(required=True)
    resident_satisfaction_source = enum_field(Source, allow_none=True, required=True)
    note = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class FollowUpListSchema(OutputSchema):
    items = fields.List(fields.Nested(FollowUpSchema), required=True)


class FollowUpReportArgsSchema(ReportFormatArgsSchema):
    municipality_id = Id(load_default=None)
    contest_year = fields.Integer(load_default=None, validate=_CONTEST_YEAR)


class CaseTrendSchema(OutputSchema):
    case = fields.Nested(SelectedCaseSchema, required=True)
    follow_ups = fields.List(fields.Nested(FollowUpSchema), required=True)
    fundings = fields.List(fields.Nested(FundingSchema), required=True)
    funding_total = fields.Integer(required=True)
    missing_last_year = fields.Boolean(required=True)


class FollowUpReportSchema(OutputSchema):
    last_year = fields.Integer(required=True)
    cases = fields.List(fields.Nested(CaseTrendSchema), required=True)
    missing_last_year = fields.List(
        fields.Nested(SelectedCaseSchema),
        required=True,
        metadata={"description": "Cases selected before last year without a record for it."},
    )


# ---- mediation committee --------------------------------------------------------------------


class MediationMemberCreateSchema(InputSchema):
    user_id = Id(required=True)
    role = enum_field(MemberRole, load_default=MemberRole.MEMBER)
    qualification = enum_field(Qualification, required=True)
    affiliation = Text(200, min_length=1, required=True)
    years_of_experience = fields.Integer(load_default=None, validate=validate.Range(0, 80))
    appointed_on = SeoulDate(load_default=None)


class MediationMemberSchema(OutputSchema):
    id = Id(required=True)
    user_id = Id(required=True)
    display_name = MaskedName(required=True)
    role = enum_field(MemberRole, required=True)
    qualification = enum_field(Qualification, required=True)
    affiliation = fields.String(required=True)
    years_of_experience = fields.Integer(allow_none=True, required=True)
    appointed_on = SeoulDate(required=True)
    ended_on = SeoulDate(allow_none=True, required=True)


class MediationCommitteeSchema(OutputSchema):
    name = fields.String(required=True)
    members = fields.List(fields.Nested(MediationMemberSchema), required=True)


# ---- disputes -------------------------------------------------------------------------------


class ExternalPartySchema(InputSchema):
    name = Text(200, min_length=1, required=True)
    kind = enum_field(
        PartyKind,
        required=True,
        validate=validate.OneOf([PartyKind.RESIDENTS_GROUP, PartyKind.COMPANY, PartyKind.CITIZEN]),
    )


class DocumentInputSchema(InputSchema):
    title = Text(200, min_length=1, required=True)
    url = _url(load_default=None)


class DisputeCreateSchema(InputSchema):
    project_id = Id(required=True)
    subject = Text(200, min_length=1, required=True)
    claims = Text(10000, min_length=1, multiline=True, required=True)
    partner_user_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=20))
    external_parties = fields.List(
        fields.Nested(ExternalPartySchema), load_default=list, validate=validate.Length(max=20)
    )
    documents = fields.List(
        fields.Nested(DocumentInputSchema), load_default=list, validate=validate.Length(max=50)
    )


class DisputeListArgsSchema(PageArgsSchema):
    state = enum_field(DisputeState, load_default=None)


class DisputeAcceptSchema(InputSchema):
    deadline = SeoulDate(load_default=None)


class DisputeReasonSchema(InputSchema):
    reason = Text(2000, min_length=1, multiline=True, required=True)


class DisputeWithdrawSchema(InputSchema):
    reason = Text(2000, multiline=True, load_default="")


class DisputeSettleSchema(InputSchema):
    terms = Text(10000, min_length=1, multiline=True, required=True)


class NoBodySchema(InputSchema):
    pass


class MediatorAssignSchema(InputSchema):
    member_id = Id(required=True)


class DisputeHearingCreateSchema(InputSchema):
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    place = Text(200, min_length=1, required=True)
    agenda = Text(5000, multiline=True, load_default="")


class DisputePartySchema(OutputSchema):
    user_id = Id(allow_none=True, required=True)
    name = fields.String(required=True)
    side = enum_field(Side, required=True)
    kind = enum_field(PartyKind, required=True)


class DisputeDocumentSchema(OutputSchema):
    id = Id(required=True)
    title = fields.String(required=True)
    url = fields.String(allow_none=True, required=True)
    created_at = SeoulDateTime(required=True)


class DisputeMediatorSchema(OutputSchema):
    member_id = Id(required=True)
    user_id = Id(required=True)
    display_name = MaskedName(required=True, attribute="member.display_name")
    created_at = SeoulDateTime(required=True)


class DisputeHearingSchema(OutputSchema):
    id = Id(required=True)
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    place = fields.String(required=True)
    agenda = fields.String(required=True)


class DisputeSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    project_id = Id(required=True)
    project_title = fields.String(required=True, attribute="project.title")
    filed_by_id = Id(required=True)
    filer_side = enum_field(Side, required=True)
    subject = fields.String(required=True)
    claims = fields.String(required=True)
    state = enum_field(DisputeState, required=True)
    allowed_moves = fields.List(fields.String(), required=True)
    deadline = SeoulDate(allow_none=True, required=True)
    outcome = fields.String(allow_none=True, required=True)
    parties = fields.List(fields.Nested(DisputePartySchema), required=True)
    documents = fields.List(fields.Nested(DisputeDocumentSchema), required=True)
    mediators = fields.List(fields.Nested(DisputeMediatorSchema), required=True)
    hearings = fields.List(fields.Nested(DisputeHearingSchema), required=True)
    created_at = SeoulDateTime(required=True)
    updated_at = SeoulDateTime(required=True)


# ---- courses --------------------------------------------------------------------------------


class CourseCreateSchema(InputSchema):
    title = Text(200, min_length=1, required=True)
    level = enum_field(TrainingLevel, required=True)
    audience = enum_field(CourseAudience, required=True)
    host = enum_field(CourseHost, required=True)
    region = Text(50, load_default=None, allow_none=True)
    place = Text(200, min_length=1, required=True)
    description = Text(5000, multiline=True, load_default="")
    starts_on = SeoulDate(required=True)
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=3))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=10000))


class CourseListArgsSchema(PageArgsSchema):
    level = enum_field(TrainingLevel, load_default=None)
    year = fields.Integer(load_default=None, validate=_YEAR)


class CourseSchema(OutputSchema):
    id = Id(required=True)
    title = fields.String(required=True)
    level = enum_field(TrainingLevel, required=True)
    audience = enum_field(CourseAudience, required=True)
    host = enum_field(CourseHost, required=True)
    region = fields.String(allow_none=True, required=True)
    place = fields.String(required=True)
    description = fields.String(required=True)
    starts_on = SeoulDate(required=True)
    days = fields.Integer(required=True)
    capacity = fields.Integer(required=True)
    enrolled_count = fields.Integer(required=True)
    open_seats = fields.Integer(required=True)


class EnrolmentAttendanceSchema(InputSchema):
    day = fields.Integer(required=True, validate=validate.Range(min=1, max=3))


class EnrolmentRatingSchema(InputSchema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(1000, multiline=True, load_default="")


class EnrolmentSchema(OutputSchema):
    id = Id(required=True)
    course_id = Id(required=True)
    user_id = Id(required=True)
    municipality_id = Id(allow_none=True, required=True)
    status = enum_field(EnrolmentStatus, required=True)
    attended_days = fields.List(fields.Integer(), required=True)
    completed_at = SeoulDateTime(allow_none=True, required=True)
    rating = fields.Integer(allow_none=True, required=True)
    created_at = SeoulDateTime(required=True)


class TrainingEntrySchema(EnrolmentSchema):
    course = fields.Nested(CourseSchema, required=True)


class TrainingPageArgsSchema(PageArgsSchema):
    pass
