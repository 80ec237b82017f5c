"""HTTP for participation: projects, stages, government work, activities, check-in,
participations, the caller's history, satisfaction surveys and indicator records."""

from __future__ import annotations

from typing import Any

from flask import current_app

from backend.api.access_log import export_csv, log_access, user_ids
from backend.api.auth import current_caller, requires
from backend.api.blueprint import Blueprint
from backend.api.reports import CSV_RESPONSE
from backend.errors import RateLimited, ValidationFailed
from backend.participation import services
from backend.participation.schemas import (
    ActivityCheckInSchema,
    ActivityCreateSchema,
    ActivityListArgsSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    BulkConfirmResultSchema,
    BulkConfirmSchema,
    CheckInCodeSchema,
    ConfirmSchema,
    EmptySchema,
    GovernmentWorkCreateSchema,
    GovernmentWorkListArgsSchema,
    GovernmentWorkSchema,
    IndicatorRecordCreateSchema,
    IndicatorRecordListArgsSchema,
    IndicatorRecordSchema,
    JoinSchema,
    ModeOverrideSchema,
    MyParticipationListArgsSchema,
    MyParticipationSchema,
    ParticipationListArgsSchema,
    ParticipationSchema,
    ParticipationStaffSchema,
    ParticipationSummarySchema,
    ProjectActivityListArgsSchema,
    ProjectCreateSchema,
    ProjectDetailSchema,
    ProjectListArgsSchema,
    ProjectSchema,
    ProjectUpdateSchema,
    RejectSchema,
    StageSchema,
    StageUpdateSchema,
    SurveyAnswerSchema,
    SurveyCreateSchema,
    SurveyResponseSchema,
    SurveyResponseStaffSchema,
    SurveySchema,
)
from backend.permissions import ALL_ROLES, Role, can_manage_row
from backend.privacy.assurance import ensure_level
from backend.privacy.models import AccessAction
from backend.privacy.schemas import exportable
from backend.ratelimit import check_in_guesses
from backend.schemas import PageArgsSchema, page_of

blp = Blueprint(
    "participation",
    __name__,
    url_prefix="/api/v1",
    description="Projects, stages, activities, participation and surveys",
)

#: Staff who read a municipality's records: its officials, and analysts and admins anywhere.
STAFF_READERS = (Role.OFFICIAL, Role.ANALYST, Role.ADMIN)


# ---- projects and stages --------------------------------------------------------------------


@blp.route("/projects", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(ProjectListArgsSchema, location="query")
@blp.response(200, page_of(ProjectSchema))
def list_projects(args: dict[str, Any]) -> Any:
    """Projects the caller may see, newest first (citizens: published ones of their
    municipality)."""
    return services.list_projects(viewer=current_caller(), **args)


@blp.route("/projects", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ProjectCreateSchema)
@blp.response(201, ProjectDetailSchema)
def create_project(data: dict[str, Any]) -> Any:
    """Open a project of the official's municipality, with its four stages."""
    return services.create_project(actor=current_caller(), **data)


@blp.route("/projects/<project_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, ProjectDetailSchema)
def get_project(project_id: str) -> Any:
    """A project with its stage timeline."""
    return services.project_with_stages(viewer=current_caller(), project_id=project_id)


@blp.route("/projects/<project_id>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(ProjectUpdateSchema)
@blp.response(200, ProjectDetailSchema)
def update_project(data: dict[str, Any], project_id: str) -> Any:
    """Change a project (title, field, dates, status, visibility)."""
    actor = current_caller()
    project = services.project_with_stages(viewer=actor, project_id=project_id)
    return services.update_project(actor=actor, project=project, **data)


@blp.route("/projects/<project_id>/stages/<stage>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, StageSchema)
def get_stage(project_id: str, stage: str) -> Any:
    """One stage (`plan`, `decide`, `implement`, `evaluate`) with its mode and counters."""
    return services.get_stage(viewer=current_caller(), project_id=project_id, stage=stage)


@blp.route("/projects/<project_id>/stages/<stage>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(StageUpdateSchema)
@blp.response(200, StageSchema)
def update_stage(data: dict[str, Any], project_id: str, stage: str) -> Any:
    """Set a stage's dates (inside the project's) or status."""
    actor = current_caller()
    row = services.get_stage(viewer=actor, project_id=project_id, stage=stage)
    return services.update_stage(actor=actor, stage=row, **data)


@blp.route("/projects/<project_id>/stages/<stage>/mode-override", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ModeOverrideSchema)
@blp.response(200, StageSchema)
def override_stage_mode(data: dict[str, Any], project_id: str, stage: str) -> Any:
    """Impose a stage's mode with a reason (kept in the audit log); `null` undoes it."""
    actor = current_caller()
    row = services.get_stage(viewer=actor, project_id=project_id, stage=stage)
    return services.override_stage_mode(actor=actor, stage=row, **data)


@blp.route("/projects/<project_id>/government-work", methods=["GET"])
@requires(*STAFF_READERS)
@blp.arguments(GovernmentWorkListArgsSchema, location="query")
@blp.response(200, page_of(GovernmentWorkSchema))
def list_government_work(args: dict[str, Any], project_id: str) -> Any:
    """Government work logged for the project, newest first."""
    project = services.get_project(viewer=current_caller(), project_id=project_id)
    return services.list_government_work(project=project, **args)


@blp.route("/projects/<project_id>/government-work", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(GovernmentWorkCreateSchema)
@blp.response(201, GovernmentWorkSchema)
def log_government_work(data: dict[str, Any], project_id: str) -> Any:
    """Log what the administration did alone in a stage (the stage's mode follows)."""
    actor = current_caller()
    project = services.get_project(viewer=actor, project_id=project_id)
    return services.log_government_work(actor=actor, project=project, **data)


# ---- activities -----------------------------------------------------------------------------


@blp.route("/projects/<project_id>/activities", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(ProjectActivityListArgsSchema, location="query")
@blp.response(200, page_of(ActivitySchema))
def list_project_activities(args: dict[str, Any], project_id: str) -> Any:
    """A project's activities, newest first."""
    viewer = current_caller()
    project = services.get_project(viewer=viewer, project_id=project_id)
    return services.list_activities(viewer=viewer, project_id=project.id, **args)


@blp.route("/projects/<project_id>/activities", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ActivityCreateSchema)
@blp.response(201, ActivitySchema)
def create_activity(data: dict[str, Any], project_id: str) -> Any:
    """Add an activity to a stage of the project, inside the stage's dates."""
    actor = current_caller()
    project = services.get_project(viewer=actor, project_id=project_id)
    return services.create_activity(actor=actor, project=project, **data)


@blp.route("/activities", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(ActivityListArgsSchema, location="query")
@blp.response(200, page_of(ActivitySchema))
def search_activities(args: dict[str, Any]) -> Any:
    """Search activities the caller may see: by stage, kind, field, dates, open seats, words."""
    return services.list_activities(viewer=current_caller(), **args)


@blp.route("/activities/<activity_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, ActivitySchema)
def get_activity(activity_id: str) -> Any:
    """One activity."""
    return services.get_activity(viewer=current_caller(), activity_id=activity_id)


@blp.route("/activities/<activity_id>", methods=["PATCH"])
@requires(Role.OFFICIAL)
@blp.arguments(ActivityUpdateSchema)
@blp.response(200, ActivitySchema)
def update_activity(data: dict[str, Any], activity_id: str) -> Any:
    """Change an activity (times stay inside its stage; capacity above the seats taken)."""
    actor = current_caller()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    return services.update_activity(actor=actor, activity=activity, **data)


@blp.route("/activities/<activity_id>/check-in-code", methods=["GET"])
@requires(Role.OFFICIAL)
@blp.response(200, CheckInCodeSchema)
def get_check_in_code(activity_id: str) -> Any:
    """The rotating code (show it as a QR at the venue); fetch again at `expires_at`."""
    actor = current_caller()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    return services.get_check_in_code(actor=actor, activity=activity)


@blp.route("/activities/<activity_id>/check-in", methods=["POST"])
@requires(Role.CITIZEN)
@blp.arguments(ActivityCheckInSchema)
@blp.response(200, ParticipationSchema)
def check_in(data: dict[str, Any], activity_id: str) -> Any:
    """Check in at the venue with the code shown there (from 30 minutes before the start to
    the end; once)."""
    actor = current_caller()
    wait = check_in_guesses(current_app).retry_after(f"{actor.id}:{activity_id}")
    if wait:
        raise RateLimited("Too many check-in attempts; try again later.", retry_after=wait)
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    return services.check_in(actor=actor, activity=activity, code=data["code"])


# ---- participations -------------------------------------------------------------------------


@blp.route("/activities/<activity_id>/participations", methods=["POST"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.arguments(JoinSchema)
@blp.response(201, ParticipationSchema)
def join_activity(data: dict[str, Any], activity_id: str) -> Any:
    """Citizens: join the activity (`{}`; a full one is 409 `activity_full`). Officials:
    record a citizen's participation (`user_id`, optionally `attended`)."""
    actor = current_caller()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    if can_manage_row(actor, activity):  # officials record others; citizens join themselves
        if data["user_id"] is None:
            raise ValidationFailed("Name the citizen.", fields={"user_id": ["Required."]})
        return services.record_participation(actor=actor, activity=activity, **data)
    if data["user_id"] not in (None, actor.id) or data["attended"]:
        raise ValidationFailed(
            "Citizens join for themselves.", fields={"user_id": ["Only officials record others."]}
        )
    # An official's record is made in person, so only a citizen's own join is checked.
    ensure_level(user_id=actor.id, target_type="activity", target_id=activity.id)
    return services.join_activity(actor=actor, activity=activity)


_PARTICIPANT_COLUMNS = ("id", "user_id", "user.display_name", "status", "hours", "registered_at")


@blp.route("/activities/<activity_id>/participations", methods=["GET"])
@requires(*STAFF_READERS)
@blp.arguments(exportable(ParticipationListArgsSchema), location="query")
@blp.response(200, page_of(ParticipationStaffSchema))
@blp.alt_response(200, **CSV_RESPONSE)
def list_activity_participations(args: dict[str, Any], activity_id: str) -> Any:
    """Who joined the activity, newest first; `?format=csv&reason=...` downloads the page (names
    masked as in JSON; the download and its reason are recorded)."""
    activity = services.get_activity(viewer=current_caller(), activity_id=activity_id)
    wants_csv, reason = args.pop("format") == "csv", args.pop("reason")
    page = services.list_activity_participations(activity=activity, **args)
    if wants_csv:
        return export_csv(
            page.items,
            ParticipationStaffSchema(),
            _PARTICIPANT_COLUMNS,
            f"activity-{activity_id}-participants.csv",
            resource="activity.participations",
            resource_id=activity_id,
            reason=reason,
        )
    log_access(
        AccessAction.VIEW, "activity.participations", user_ids(page.items), resource_id=activity_id
    )
    return page


@blp.route("/activities/<activity_id>/participations/confirm", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(BulkConfirmSchema)
@blp.response(200, BulkConfirmResultSchema)
def confirm_activity_participations(data: dict[str, Any], activity_id: str) -> Any:
    """Confirm the listed participations, or every attended one, with hours; all or none."""
    actor = current_caller()
    activity = services.get_activity(viewer=actor, activity_id=activity_id)
    items = services.confirm_activity_participations(actor=actor, activity=activity, **data)
    return {"items": items}


@blp.route("/participations/<participation_id>", methods=["GET"])
@requires(Role.CITIZEN, *STAFF_READERS)
@blp.response(200, ParticipationSchema)
def get_participation(participation_id: str) -> Any:
    """One participation: the citizen's own, or one of the official's municipality."""
    participation = services.get_participation(
        viewer=current_caller(), participation_id=participation_id
    )
    log_access(
        AccessAction.VIEW, "participation", [participation.user_id], resource_id=participation_id
    )
    return participation


def _participation(participation_id: str) -> Any:
    return services.get_participation(viewer=current_caller(), participation_id=participation_id)


@blp.route("/participations/<participation_id>/confirm", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(ConfirmSchema)
@blp.response(200, ParticipationSchema)
def confirm_participation(data: dict[str, Any], participation_id: str) -> Any:
    """Confirm with hours; confirming a confirmed participation changes nothing."""
    return services.confirm_participation(
        actor=current_caller(), participation=_participation(participation_id), **data
    )


@blp.route("/participations/<participation_id>/reject", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(RejectSchema)
@blp.response(200, ParticipationSchema)
def reject_participation(data: dict[str, Any], participation_id: str) -> Any:
    """Reject with a reason (frees the seat)."""
    return services.reject_participation(
        actor=current_caller(), participation=_participation(participation_id), **data
    )


@blp.route("/participations/<participation_id>/cancel", methods=["POST"])
@requires(Role.CITIZEN, Role.OFFICIAL)
@blp.arguments(EmptySchema)
@blp.response(200, ParticipationSchema)
def cancel_participation(_data: dict[str, Any], participation_id: str) -> Any:
    """Cancel a registration before attending (the citizen, or an official)."""
    return services.cancel_participation(
        actor=current_caller(), participation=_participation(participation_id)
    )


@blp.route("/participations/<participation_id>/no-show", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(EmptySchema)
@blp.response(200, ParticipationSchema)
def mark_no_show(_data: dict[str, Any], participation_id: str) -> Any:
    """Mark a registered citizen who never came, once the activity is over."""
    return services.mark_no_show(
        actor=current_caller(), participation=_participation(participation_id)
    )


@blp.route("/me/participations", methods=["GET"])
@requires(Role.CITIZEN)
@blp.arguments(MyParticipationListArgsSchema, location="query")
@blp.response(200, page_of(MyParticipationSchema))
def my_participations(args: dict[str, Any]) -> Any:
    """The caller's participation history, newest first, with stage, status and hours."""
    return services.list_my_participations(user=current_caller(), **args)


@blp.route("/me/participations/summary", methods=["GET"])
@requires(Role.CITIZEN)
@blp.response(200, ParticipationSummarySchema)
def my_participation_summary() -> Any:
    """The caller's participations per stage: counts by status and confirmed hours."""
    return services.participation_summary(user=current_caller())


# ---- surveys --------------------------------------------------------------------------------


@blp.route("/projects/<project_id>/surveys", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(SurveySchema))
def list_project_surveys(args: dict[str, Any], project_id: str) -> Any:
    """The project's satisfaction surveys (its own and its activities'), with results."""
    project = services.get_project(viewer=current_caller(), project_id=project_id)
    return services.list_project_surveys(project=project, **args)


@blp.route("/projects/<project_id>/surveys", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(SurveyCreateSchema)
@blp.response(201, SurveySchema)
def create_survey(data: dict[str, Any], project_id: str) -> Any:
    """Open the satisfaction survey of the project, or of one activity (`activity_id`)."""
    actor = current_caller()
    project = services.get_project(viewer=actor, project_id=project_id)
    return services.create_survey(actor=actor, project=project, **data)


@blp.route("/surveys/<survey_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, SurveySchema)
def get_survey(survey_id: str) -> Any:
    """A survey with its results: count, mean and distribution of the ratings."""
    return services.get_survey(viewer=current_caller(), survey_id=survey_id)


@blp.route("/surveys/<survey_id>/responses", methods=["POST"])
@requires(Role.CITIZEN)
@blp.arguments(SurveyAnswerSchema)
@blp.response(201, SurveyResponseSchema)
def answer_survey(data: dict[str, Any], survey_id: str) -> Any:
    """Answer once (participants only): a 1-5 rating and a comment."""
    actor = current_caller()
    survey = services.get_survey(viewer=actor, survey_id=survey_id)
    return services.answer_survey(actor=actor, survey=survey, **data)


@blp.route("/surveys/<survey_id>/responses", methods=["GET"])
@requires(*STAFF_READERS)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(SurveyResponseStaffSchema))
def list_survey_responses(args: dict[str, Any], survey_id: str) -> Any:
    """The answers with their comments, newest first."""
    survey = services.get_survey(viewer=current_caller(), survey_id=survey_id)
    page = services.list_survey_responses(survey=survey, **args)
    log_access(AccessAction.VIEW, "survey.responses", user_ids(page.items), resource_id=survey_id)
    return page


# ---- indicator records ----------------------------------------------------------------------


@blp.route("/indicator-records", methods=["POST"])
@requires(Role.OFFICIAL)
@blp.arguments(IndicatorRecordCreateSchema)
@blp.response(201, IndicatorRecordSchema)
def record_indicator(data: dict[str, Any]) -> Any:
    """Record an indicator fact: an ordinance, a dedicated department, a promotion (with its
    channel) or an exchange with residents' bodies (with the partner)."""
    return services.record_indicator(actor=current_caller(), **data)


@blp.route("/indicator-records", methods=["GET"])
@requires(*STAFF_READERS)
@blp.arguments(IndicatorRecordListArgsSchema, location="query")
@blp.response(200, page_of(IndicatorRecordSchema))
def list_indicator_records(args: dict[str, Any]) -> Any:
    """Indicator facts the caller may see, newest first."""
    return services.list_indicator_records(viewer=current_caller(), **args)
