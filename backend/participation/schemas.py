"""Participation schemas: strict inputs, per-audience outputs, list filters and reports."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from backend.identity.schemas import UserPublicSchema
from backend.participation.models import (
    ActivityKind,
    ExchangePartner,
    IndicatorKind,
    ParticipationStatus,
    ProjectField,
    ProjectStatus,
    PromotionChannel,
    Stage,
    StageMode,
    StageStatus,
    TrainingLevel,
    Visibility,
)
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

_HOURS = validate.Range(min=0, max=100)
_YEAR = validate.Range(min=2000, max=2100)


class _DatesInOrder:
    """Refuse an end before the start when both are given (422 `dates_out_of_order`)."""

    _start, _end = "starts_on", "ends_on"

    @validates_schema
    def _dates_in_order(self, data: dict, **_kwargs: object) -> None:
        start, end = data.get(self._start), data.get(self._end)
        if start is not None and end is not None and end < start:
            raise ValidationError(f"Must not be before {self._start}.", self._end)


# ---- projects and stages --------------------------------------------------------------------


class ProjectCreateSchema(_DatesInOrder, InputSchema):
    title = Text(200, min_length=1, required=True, metadata={"example": "안심 귀갓길 만들기"})
    summary = Text(5000, load_default="")
    field = enum_field(ProjectField, required=True)
    starts_on = SeoulDate(required=True)
    ends_on = SeoulDate(required=True)
    status = enum_field(ProjectStatus, load_default=ProjectStatus.DRAFT)
    visibility = enum_field(Visibility, load_default=Visibility.PUBLIC)


class ProjectUpdateSchema(_DatesInOrder, InputSchema):
    title = Text(200, min_length=1)
    summary = Text(5000)
    field = enum_field(ProjectField)
    starts_on = SeoulDate()
    ends_on = SeoulDate()
    status = enum_field(ProjectStatus)
    visibility = enum_field(Visibility)


class StageSchema(OutputSchema):
    stage = enum_field(Stage, required=True)
    starts_on = SeoulDate(allow_none=True)
    ends_on = SeoulDate(allow_none=True)
    status = enum_field(StageStatus, required=True)
    mode = enum_field(
        StageMode,
        required=True,
        metadata={"description": "Effective mode: the override if any, else derived."},
    )
    derived_mode = enum_field(
        StageMode,
        required=True,
        metadata={
            "description": "What the records say: government work logged and/or confirmed citizens."
        },
    )
    mode_overridden = fields.Boolean(required=True)
    override_reason = fields.String(allow_none=True)
    government_work_count = fields.Integer(required=True)
    confirmed_count = fields.Integer(
        required=True, metadata={"description": "Confirmed participations."}
    )
    confirmed_hours = fields.Float(required=True)


class ProjectSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    field = enum_field(ProjectField, required=True)
    starts_on = SeoulDate(required=True)
    ends_on = SeoulDate(required=True)
    status = enum_field(ProjectStatus, required=True)
    visibility = enum_field(Visibility, required=True)
    created_at = SeoulDateTime(required=True)


class ProjectDetailSchema(ProjectSchema):
    """A project with its stage timeline."""

    stages = fields.List(fields.Nested(StageSchema), required=True)


class ProjectListArgsSchema(PageArgsSchema):
    status = enum_field(ProjectStatus, load_default=None)
    field = enum_field(ProjectField, load_default=None)
    year = fields.Integer(
        load_default=None,
        validate=_YEAR,
        metadata={"description": "Projects running during this year."},
    )
    q = Text(100, load_default=None, metadata={"description": "Words in the title."})
    municipality_id = Id(load_default=None)


class StageUpdateSchema(_DatesInOrder, InputSchema):
    starts_on = SeoulDate()
    ends_on = SeoulDate()
    status = enum_field(StageStatus)


class ModeOverrideSchema(InputSchema):
    mode = enum_field(
        StageMode,
        required=True,
        allow_none=True,
        metadata={"description": "The mode to impose; null returns to the derived."},
    )
    reason = Text(500, min_length=1, required=True)


class GovernmentWorkCreateSchema(InputSchema):
    stage = enum_field(Stage, required=True)
    title = Text(200, min_length=1, required=True, metadata={"example": "CCTV 설치 계획 수립"})
    description = Text(5000, load_default="")
    performed_on = SeoulDate(load_default=None, allow_none=True)


class GovernmentWorkSchema(OutputSchema):
    id = Id(required=True)
    project_id = Id(required=True)
    stage = enum_field(Stage, required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    performed_on = SeoulDate(allow_none=True)
    created_by = Id(allow_none=True)
    created_at = SeoulDateTime(required=True)


class GovernmentWorkListArgsSchema(PageArgsSchema):
    stage = enum_field(Stage, load_default=None)


# ---- activities -----------------------------------------------------------------------------


class ActivityCreateSchema(InputSchema):
    stage = enum_field(Stage, required=True)
    kind = enum_field(ActivityKind, required=True)
    training_level = enum_field(
        TrainingLevel,
        load_default=None,
        allow_none=True,
        metadata={"description": "Trainings only: basic (1 day) or advanced (2-3 days)."},
    )
    title = Text(200, min_length=1, required=True, metadata={"example": "주민 토론회"})
    description = Text(5000, load_default="")
    place = Text(200, load_default=None, allow_none=True)
    online_url = fields.Url(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        schemes={"http", "https"},
    )
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    capacity = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "Seats; null for no limit."},
    )

    @validates_schema
    def _times_in_order(self, data: dict, **_kwargs: object) -> None:
        start, end = data.get("starts_at"), data.get("ends_at")
        if start is not None and end is not None and end <= start:
            raise ValidationError("Must be after starts_at.", "ends_at")


class ActivityUpdateSchema(InputSchema):
    training_level = enum_field(TrainingLevel)
    title = Text(200, min_length=1)
    description = Text(5000)
    place = Text(200)
    online_url = fields.Url(validate=validate.Length(max=500), schemes={"http", "https"})
    starts_at = SeoulDateTime()
    ends_at = SeoulDateTime()
    capacity = fields.Integer(validate=validate.Range(min=1, max=100_000))


class ProjectBriefSchema(OutputSchema):
    id = Id(required=True)
    title = fields.String(required=True)
    field = enum_field(ProjectField, required=True)
    status = enum_field(ProjectStatus, required=True)


class ActivitySchema(OutputSchema):
    id = Id(required=True)
    project_id = Id(required=True)
    municipality_id = Id(required=True)
    stage = enum_field(Stage, required=True)
    kind = enum_field(ActivityKind, required=True)
    training_level = enum_field(TrainingLevel, allow_none=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    place = fields.String(allow_none=True)
    online_url = fields.String(allow_none=True)
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    capacity = fields.Integer(allow_none=True)
    registered_count = fields.Integer(required=True)
    open_seats = fields.Integer(allow_none=True, metadata={"description": "Null: no limit."})
    project = fields.Nested(ProjectBriefSchema, required=True)
    created_at = SeoulDateTime(required=True)


class ActivityListArgsSchema(PageArgsSchema):
    stage = enum_field(Stage, load_default=None)
    kind = enum_field(ActivityKind, load_default=None)
    field = enum_field(ProjectField, load_default=None)
    project_id = Id(load_default=None)
    date_from = SeoulDate(load_default=None, metadata={"description": "Ending on or after."})
    date_to = SeoulDate(load_default=None, metadata={"description": "Starting on or before."})
    open_seats = fields.Boolean(
        load_default=None, metadata={"description": "true: seats left; false: full."}
    )
    q = Text(100, load_default=None, metadata={"description": "Words in the title."})


class ProjectActivityListArgsSchema(PageArgsSchema):
    stage = enum_field(Stage, load_default=None)
    kind = enum_field(ActivityKind, load_default=None)
    open_seats = fields.Boolean(load_default=None)


class CheckInCodeSchema(OutputSchema):
    activity_id = Id(required=True)
    code = fields.String(required=True, metadata={"example": "042917"})
    valid_from = SeoulDateTime(required=True)
    expires_at = SeoulDateTime(
        required=True, metadata={"description": "Show the next code from then on."}
    )
    window_seconds = fields.Integer(required=True)
    check_in_opens_at = SeoulDateTime(required=True)
    check_in_closes_at = SeoulDateTime(required=True)
    qr_payload = fields.String(
        required=True, metadata={"description": "What the venue QR encodes."}
    )


class ActivityCheckInSchema(InputSchema):
    code = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9]{6}$", error="Six digits.")
    )


# ---- participations -------------------------------------------------------------------------


class JoinSchema(InputSchema):
    """Citizens send `{}`; officials name the citizen they record."""

    user_id = Id(load_default=None, metadata={"description": "Officials: the citizen recorded."})
    attended = fields.Boolean(
        load_default=False, metadata={"description": "Officials: record as attended."}
    )


class ActivityBriefSchema(OutputSchema):
    id = Id(required=True)
    title = fields.String(required=True)
    kind = enum_field(ActivityKind, required=True)
    training_level = enum_field(TrainingLevel, allow_none=True)
    starts_at = SeoulDateTime(required=True)
    ends_at = SeoulDateTime(required=True)
    place = fields.String(allow_none=True)


class ParticipationSchema(OutputSchema):
    id = Id(required=True)
    activity_id = Id(required=True)
    project_id = Id(required=True)
    user_id = Id(required=True)
    stage = enum_field(Stage, required=True)
    status = enum_field(ParticipationStatus, required=True)
    hours = fields.Float(allow_none=True, metadata={"description": "Set when confirmed."})
    registered_at = SeoulDateTime(required=True)
    attended_at = SeoulDateTime(allow_none=True)
    decided_at = SeoulDateTime(
        allow_none=True, metadata={"description": "When confirmed, rejected or no-show."}
    )
    rejection_reason = fields.String(allow_none=True)


class MyParticipationSchema(ParticipationSchema):
    """A history entry: the participation with its activity and project."""

    activity = fields.Nested(ActivityBriefSchema, required=True)
    project = fields.Nested(ProjectBriefSchema, attribute="activity.project", required=True)


class ParticipationStaffSchema(ParticipationSchema):
    """What officials see: who took part and who recorded or decided."""

    user = fields.Nested(UserPublicSchema, required=True)
    recorded_by = Id(allow_none=True)
    decided_by = Id(allow_none=True)


class ParticipationListArgsSchema(PageArgsSchema):
    status = enum_field(ParticipationStatus, load_default=None)


class MyParticipationListArgsSchema(PageArgsSchema):
    stage = enum_field(Stage, load_default=None)
    status = enum_field(ParticipationStatus, load_default=None)


class ConfirmSchema(InputSchema):
    hours = fields.Float(
        load_default=None,
        allow_none=True,
        validate=_HOURS,
        metadata={
            "description": "Default: the activity's duration, to the half hour, at most 8 a day."
        },
    )


class BulkConfirmSchema(ConfirmSchema):
    participation_ids = fields.List(
        Id(),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Default: every attended one."},
    )


class RejectSchema(InputSchema):
    reason = Text(500, min_length=1, required=True)


class EmptySchema(InputSchema):
    """No body needed (`{}`)."""


class BulkConfirmResultSchema(OutputSchema):
    items = fields.List(fields.Nested(ParticipationStaffSchema), required=True)


class StageSummarySchema(OutputSchema):
    stage = enum_field(Stage, required=True)
    total = fields.Integer(required=True)
    confirmed = fields.Integer(required=True)
    hours = fields.Float(required=True, metadata={"description": "Confirmed hours."})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ParticipationSummarySchema(OutputSchema):
    total = fields.Integer(required=True)
    confirmed = fields.Integer(required=True)
    hours = fields.Float(required=True)
    stages = fields.List(fields.Nested(StageSummarySchema), required=True)


# ---- surveys --------------------------------------------------------------------------------


class SurveyCreateSchema(InputSchema):
    title = Text(200, min_length=1, required=True, metadata={"example": "사업 만족도 조사"})
    activity_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "Survey one activity; omit for the project."},
    )
    closes_at = SeoulDateTime(load_default=None, allow_none=True)


class SurveySchema(OutputSchema):
    id = Id(required=True)
    project_id = Id(required=True)
    activity_id = Id(allow_none=True)
    title = fields.String(required=True)
    closes_at = SeoulDateTime(allow_none=True)
    response_count = fields.Integer(required=True)
    mean_rating = fields.Float(allow_none=True)
    distribution = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"example": {"1": 0, "2": 1, "3": 2, "4": 5, "5": 9}},
    )
    created_at = SeoulDateTime(required=True)


class SurveyAnswerSchema(InputSchema):
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = Text(1000, load_default="")


class SurveyResponseSchema(OutputSchema):
    id = Id(required=True)
    survey_id = Id(required=True)
    rating = fields.Integer(required=True)
    comment = fields.String(required=True)
    created_at = SeoulDateTime(required=True)


class SurveyResponseStaffSchema(SurveyResponseSchema):
    user_id = Id(required=True)


# ---- indicator records ----------------------------------------------------------------------


class IndicatorRecordCreateSchema(InputSchema):
    kind = enum_field(IndicatorKind, required=True)
    title = Text(200, min_length=1, required=True, metadata={"example": "공동생산 지원 조례 제정"})
    occurred_on = SeoulDate(required=True)
    channel = enum_field(
        PromotionChannel,
        load_default=None,
        allow_none=True,
        metadata={"description": "Promotions only."},
    )
    partner = enum_field(
        ExchangePartner,
        load_default=None,
        allow_none=True,
        metadata={"description": "Exchanges only."},
    )
    project_id = Id(load_default=None, allow_none=True)
    note = Text(1000, load_default="")


class IndicatorRecordSchema(OutputSchema):
    id = Id(required=True)
    municipality_id = Id(required=True)
    kind = enum_field(IndicatorKind, required=True)
    title = fields.String(required=True)
    occurred_on = SeoulDate(required=True)
    channel = enum_field(PromotionChannel, allow_none=True)
    partner = enum_field(ExchangePartner, allow_none=True)
    project_id = Id(allow_none=True)
    note = fields.String(required=True)
    created_by = Id(allow_none=True)
    created_at = SeoulDateTime(required=True)


class IndicatorRecordListArgsSchema(PageArgsSchema):
    kind = enum_field(IndicatorKind, load_default=None)
    year = fields.Integer(load_default=None, validate=_YEAR)
    municipality_id = Id(load_default=None)


# ---- reports --------------------------------------------------------------------------------

_FORMAT = fields.String(
    load_default="json",
    validate=validate.OneOf(["json", "csv"]),
    metadata={"description": "csv (or send Accept: text/csv) for a CSV file."},
)


class ReportFormatArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    format = _FORMAT


class StageModeArgsSchema(ReportFormatArgsSchema):
    year = fields.Integer(
        load_default=None,
        validate=_YEAR,
        metadata={"description": "Projects starting in this year."},
    )
    municipality_id = Id(load_default=None)
    field = enum_field(ProjectField, load_default=None)


class StageModeRowSchema(OutputSchema):
    stage = enum_field(Stage, required=True)
    total = fields.Integer(required=True)
    government = fields.Integer(required=True)
    citizen = fields.Integer(required=True)
    joint = fields.Integer(required=True)
    unclear = fields.Integer(required=True)
    government_percent = fields.Float(required=True)
    citizen_percent = fields.Float(required=True)
    joint_percent = fields.Float(required=True)
    unclear_percent = fields.Float(required=True)


class StageModeReportSchema(OutputSchema):
    year = fields.Integer(allow_none=True)
    municipality_id = Id(allow_none=True)
    field = enum_field(ProjectField, allow_none=True)
    project_count = fields.Integer(required=True)
    stages = fields.List(fields.Nested(StageModeRowSchema), required=True)


class StageProfileSchema(OutputSchema):
    stage = enum_field(Stage, required=True)
    starts_on = SeoulDate(allow_none=True)
    ends_on = SeoulDate(allow_none=True)
    status = fields.String(required=True)
    mode = enum_field(StageMode, required=True)
    derived_mode = enum_field(StageMode, required=True)
    mode_overridden = fields.Boolean(required=True)
    override_reason = fields.String(allow_none=True)
    government_work_count = fields.Integer(required=True)
    activity_count = fields.Integer(required=True)
    confirmed_participations = fields.Integer(required=True)
    confirmed_citizens = fields.Integer(required=True)
    hours = fields.Float(required=True)


class ProjectProfileSchema(OutputSchema):
    project = fields.Nested(ProjectSchema, required=True)
    stages = fields.List(fields.Nested(StageProfileSchema), required=True)


class IndicatorArgsSchema(ReportFormatArgsSchema):
    year = fields.Integer(load_default=None, validate=_YEAR)
    municipality_id = Id(load_default=None)


class SatisfactionSchema(OutputSchema):
    responses = fields.Integer(required=True)
    mean = fields.Float(allow_none=True)
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class IndicatorRowSchema(OutputSchema):
    municipality_id = Id(required=True)
    municipality_code = fields.String(required=True)
    municipality_name = fields.String(required=True)
    region = fields.String(required=True)
    year = fields.Integer(allow_none=True)
    projects = fields.Integer(required=True)
    ordinance_enacted = fields.Boolean(required=True)
    ordinances = fields.Integer(required=True)
    dedicated_department = fields.Boolean(required=True)
    trainings_basic = fields.Integer(required=True)
    trainings_advanced = fields.Integer(required=True)
    participants_trained = fields.Integer(required=True)
    course_completions = fields.Integer(
        required=True, metadata={"description": "Places completed on the ministry's courses."}
    )
    training_satisfaction = fields.Nested(SatisfactionSchema, required=True)
    promotions = fields.Integer(required=True)
    promotion_channel_count = fields.Integer(required=True)
    promotion_channels = fields.List(fields.String(), required=True)
    exchanges = fields.Integer(required=True)
    exchanges_held = fields.Boolean(required=True)
    exchange_partners = fields.List(fields.String(), required=True)
    resident_satisfaction = fields.Nested(SatisfactionSchema, required=True)


class IndicatorReportSchema(OutputSchema):
    year = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(IndicatorRowSchema), required=True)
