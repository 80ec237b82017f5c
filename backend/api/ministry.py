"""HTTP for the ministry's side (행정안전부): selected good cases and their yearly follow-up,
the dispute mediation committee and its cases, and the training courses.

Ministry staff (analysts and admins) write the ministry's own records; officials read their
municipality's cases and file its follow-ups; a dispute is seen by its parties, its mediators
and the committee only (one policy function, `backend.permissions.can_see_dispute`).
"""

from __future__ import annotations

from typing import Any

from backend.api.auth import current_caller, requires
from backend.api.blueprint import Blueprint
from backend.api.reports import CSV_RESPONSE, csv_requested, csv_response
from backend.ministry import services
from backend.ministry.schemas import (
    CourseCreateSchema,
    CourseListArgsSchema,
    CourseSchema,
    DisputeAcceptSchema,
    DisputeCreateSchema,
    DisputeHearingCreateSchema,
    DisputeHearingSchema,
    DisputeListArgsSchema,
    DisputeReasonSchema,
    DisputeSchema,
    DisputeSettleSchema,
    DisputeWithdrawSchema,
    EnrolmentAttendanceSchema,
    EnrolmentRatingSchema,
    EnrolmentSchema,
    FollowUpCreateSchema,
    FollowUpListSchema,
    FollowUpReportArgsSchema,
    FollowUpReportSchema,
    FollowUpSchema,
    FundingCreateSchema,
    FundingListSchema,
    FundingSchema,
    MediationCommitteeSchema,
    MediationMemberCreateSchema,
    MediationMemberSchema,
    MediatorAssignSchema,
    NoBodySchema,
    SelectedCaseCreateSchema,
    SelectedCaseListArgsSchema,
    SelectedCaseSchema,
    SelectedCaseUpdateSchema,
    TrainingEntrySchema,
    TrainingPageArgsSchema,
)
from backend.permissions import ALL_ROLES, MINISTRY_STAFF, MUNICIPAL_ROLES, Role
from backend.schemas import page_of

blp = Blueprint(
    "ministry",
    __name__,
    url_prefix="/api/v1",
    description="The ministry's side: good-case follow-up, dispute mediation, training courses",
)

#: Ministry staff, and officials for their own municipality.
CASE_READERS = (Role.OFFICIAL, *MINISTRY_STAFF)
COMMITTEE_NAME = "공동생산 분쟁조정위원회"


# ---- selected cases and follow-ups ----------------------------------------------------------


@blp.route("/selected-cases", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(SelectedCaseCreateSchema)
@blp.response(201, SelectedCaseSchema)
def create_selected_case(data: dict[str, Any]) -> Any:
    """Mark a project as a good case (우수사례) of a contest year, with its award and category.

    409 `case_exists` when the project was already picked that year, `project_is_draft`.
    """
    return services.create_selected_case(actor=current_caller(), **data)


@blp.route("/selected-cases", methods=["GET"])
@requires(*CASE_READERS)
@blp.arguments(SelectedCaseListArgsSchema, location="query")
@blp.response(200, page_of(SelectedCaseSchema))
def list_selected_cases(args: dict[str, Any]) -> Any:
    """Selected cases (officials: their municipality's), newest first."""
    return services.list_selected_cases(viewer=current_caller(), **args)


@blp.route("/selected-cases/<case_id>", methods=["GET"])
@requires(*CASE_READERS)
@blp.response(200, SelectedCaseSchema)
def get_selected_case(case_id: str) -> Any:
    """One selected case."""
    return services.get_selected_case(viewer=current_caller(), case_id=case_id)


@blp.route("/selected-cases/<case_id>", methods=["PATCH"])
@requires(*MINISTRY_STAFF)
@blp.arguments(SelectedCaseUpdateSchema)
@blp.response(200, SelectedCaseSchema)
def update_selected_case(data: dict[str, Any], case_id: str) -> Any:
    """Correct a case's award, category or note (the project and contest year stay)."""
    actor = current_caller()
    case = services.get_selected_case(viewer=actor, case_id=case_id)
    return services.update_selected_case(actor=actor, case=case, **data)


@blp.route("/selected-cases/<case_id>/follow-ups", methods=["POST"])
@requires(*CASE_READERS)
@blp.arguments(FollowUpCreateSchema)
@blp.response(201, FollowUpSchema)
def create_follow_up(data: dict[str, Any], case_id: str) -> Any:
    """The case's follow-up for a year, once: the platform fills the evaluation indicators from
    live data; the municipality adds only what the platform lacks (`still_running` when the
    project ran on off the platform, `resident_satisfaction` when no survey was answered).

    409 `follow_up_exists`; 422 `follow_up_year_invalid`, `follow_up_value_known`.
    """
    actor = current_caller()
    case = services.get_selected_case(viewer=actor, case_id=case_id)
    return services.create_follow_up(actor=actor, case=case, **data)


@blp.route("/selected-cases/<case_id>/follow-ups", methods=["GET"])
@requires(*CASE_READERS)
@blp.response(200, FollowUpListSchema)
def list_follow_ups(case_id: str) -> Any:
    """The case's follow-ups, by year."""
    case = services.get_selected_case(viewer=current_caller(), case_id=case_id)
    return {"items": services.list_follow_ups(case=case)}


@blp.route("/selected-cases/<case_id>/fundings", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(FundingCreateSchema)
@blp.response(201, FundingSchema)
def add_funding(data: dict[str, Any], case_id: str) -> Any:
    """Record central multi-year funding granted to the case for a year."""
    actor = current_caller()
    case = services.get_selected_case(viewer=actor, case_id=case_id)
    return services.add_case_funding(actor=actor, case=case, **data)


@blp.route("/selected-cases/<case_id>/fundings", methods=["GET"])
@requires(*CASE_READERS)
@blp.response(200, FundingListSchema)
def list_fundings(case_id: str) -> Any:
    """The case's central funding, by year."""
    case = services.get_selected_case(viewer=current_caller(), case_id=case_id)
    return {"items": services.list_case_fundings(case=case)}


_FOLLOW_UP_COLUMNS = [
    "year",
    "still_running",
    "still_running_source",
    "ordinance_enacted",
    "dedicated_department",
    "trainings",
    "participants_trained",
    "course_completions",
    "training_satisfaction",
    "promotions",
    "promotion_channel_count",
    "exchanges",
    "resident_satisfaction",
    "resident_satisfaction_responses",
]


@blp.route("/reports/follow-ups", methods=["GET"])
@requires(*CASE_READERS)
@blp.arguments(FollowUpReportArgsSchema, location="query")
@blp.response(200, FollowUpReportSchema)
@blp.alt_response(200, **CSV_RESPONSE)
def follow_up_report(args: dict[str, Any]) -> Any:
    """Across municipalities: per selected case, the indicators by year and the funding; and
    `missing_last_year`, the cases with no follow-up for last year (one-off showcases).

    The CSV has one row per case and year (a case without follow-ups has one row, year empty).
    """
    wants_csv = csv_requested(args)
    args.pop("format")
    report = services.follow_up_report(viewer=current_caller(), **args)
    if not wants_csv:
        return {
            "last_year": report.last_year,
            "cases": report.cases,
            "missing_last_year": [trend.case for trend in report.missing_last_year],
        }
    header = [
        "case_id",
        "municipality_id",
        "project_title",
        "contest_year",
        "award",
        "category",
        "missing_last_year",
        *_FOLLOW_UP_COLUMNS,
        "funding_that_year",
        "funding_total",
    ]
    rows = []
    for trend in report.cases:
        case = trend.case
        lead = [
            case.id,
            case.municipality_id,
            case.project.title,
            case.contest_year,
            case.award,
            case.category,
            trend.missing_last_year,
        ]
        for follow_up in trend.follow_ups or [None]:
            values = [
                "" if follow_up is None else getattr(follow_up, column)
                for column in _FOLLOW_UP_COLUMNS
            ]
            values = [v.value if hasattr(v, "value") else v for v in values]
            year_funding = sum(
                f.amount for f in trend.fundings if follow_up and f.year == follow_up.year
            )
            rows.append([*lead, *values, year_funding, trend.funding_total])
    return csv_response(header, rows, "follow-ups.csv")


# ---- the mediation committee ----------------------------------------------------------------


@blp.route("/mediation/committee", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, MediationCommitteeSchema)
def get_committee() -> Any:
    """The ministry's dispute mediation committee today: the chair first, then the members,
    each with the qualification the brief asks for."""
    return {"name": COMMITTEE_NAME, "members": services.committee_members()}


@blp.route("/mediation/committee/members", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(MediationMemberCreateSchema)
@blp.response(201, MediationMemberSchema)
def add_member(data: dict[str, Any]) -> Any:
    """Appoint a member or the chair: a senior ministry official (a ministry staff account), a
    professor or researcher, or a practitioner with 10+ years (`qualification_unmet` if not).

    409 `chair_taken`, `member_exists`.
    """
    return services.add_committee_member(actor=current_caller(), **data)


@blp.route("/mediation/committee/members/<member_id>/end", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(NoBodySchema)
@blp.response(200, MediationMemberSchema)
def end_member(_data: dict[str, Any], member_id: str) -> Any:
    """End a membership (yesterday is the last day)."""
    return services.end_committee_member(actor=current_caller(), member_id=member_id)


# ---- dispute cases --------------------------------------------------------------------------


def _dispute(dispute_id: str) -> Any:
    return services.get_dispute(viewer=current_caller(), dispute_id=dispute_id)


@blp.route("/disputes", methods=["POST"])
@requires(Role.OFFICIAL, Role.CITIZEN)
@blp.arguments(DisputeCreateSchema)
@blp.response(201, DisputeSchema)
def file_dispute(data: dict[str, Any]) -> Any:
    """File a case about a project of one's own municipality: an official against its private
    partner, or a citizen partner against the municipality. Name the other private parties by
    user id (citizens of the municipality) or, outside the platform, by name and kind.

    404 `project_not_found` for another municipality's project; 422 `party_invalid`,
    `party_missing`.
    """
    return services.file_dispute(actor=current_caller(), **data)


@blp.route("/disputes", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeListArgsSchema, location="query")
@blp.response(200, page_of(DisputeSchema))
def list_disputes(args: dict[str, Any]) -> Any:
    """The cases the caller may see (as a party, a mediator or the committee), newest first."""
    return services.list_disputes(viewer=current_caller(), **args)


@blp.route("/disputes/<dispute_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, DisputeSchema)
def get_dispute(dispute_id: str) -> Any:
    """One case, with its parties, documents, mediators and hearings; 404 when not yours."""
    return _dispute(dispute_id)


@blp.route("/disputes/<dispute_id>/accept", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeAcceptSchema)
@blp.response(200, DisputeSchema)
def accept_dispute(data: dict[str, Any], dispute_id: str) -> Any:
    """The committee (chair or ministry) takes up a filed case, with a deadline (default 60 days).

    409 `dispute_illegal_transition` names the allowed moves in `fields.state`.
    """
    return services.accept_dispute(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/reject", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeReasonSchema)
@blp.response(200, DisputeSchema)
def reject_dispute(data: dict[str, Any], dispute_id: str) -> Any:
    """The committee declines a filed case, with a reason."""
    return services.reject_dispute(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/start-mediation", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(NoBodySchema)
@blp.response(200, DisputeSchema)
def start_mediation(_data: dict[str, Any], dispute_id: str) -> Any:
    """Mediation begins on an accepted case; 409 `mediator_required` without a mediator."""
    return services.start_mediation(actor=current_caller(), dispute=_dispute(dispute_id))


@blp.route("/disputes/<dispute_id>/settle", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeSettleSchema)
@blp.response(200, DisputeSchema)
def settle_dispute(data: dict[str, Any], dispute_id: str) -> Any:
    """The parties agreed (a mediator or the committee records the terms)."""
    return services.settle_dispute(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/close-unsettled", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeReasonSchema)
@blp.response(200, DisputeSchema)
def close_unsettled(data: dict[str, Any], dispute_id: str) -> Any:
    """Mediation failed: close the case without a settlement."""
    return services.close_unsettled(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/withdraw", methods=["POST"])
@requires(Role.OFFICIAL, Role.CITIZEN)
@blp.arguments(DisputeWithdrawSchema)
@blp.response(200, DisputeSchema)
def withdraw_dispute(data: dict[str, Any], dispute_id: str) -> Any:
    """The filing side withdraws an open case."""
    return services.withdraw_dispute(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/mediators", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(MediatorAssignSchema)
@blp.response(200, DisputeSchema)
def assign_mediator(data: dict[str, Any], dispute_id: str) -> Any:
    """Assign a serving committee member to mediate; 409 `mediator_is_party` for a party."""
    return services.assign_mediator(actor=current_caller(), dispute=_dispute(dispute_id), **data)


@blp.route("/disputes/<dispute_id>/hearings", methods=["POST"])
@requires(*ALL_ROLES)
@blp.arguments(DisputeHearingCreateSchema)
@blp.response(201, DisputeHearingSchema)
def schedule_hearing(data: dict[str, Any], dispute_id: str) -> Any:
    """Schedule a hearing of the committee on the case; the parties and mediators are told."""
    return services.schedule_hearing(actor=current_caller(), dispute=_dispute(dispute_id), **data)


# ---- training courses -----------------------------------------------------------------------


@blp.route("/courses", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(CourseCreateSchema)
@blp.response(201, CourseSchema)
def create_course(data: dict[str, Any]) -> Any:
    """Add a course: basic (1 day, January-June) or advanced (2-3 days, July-December), held by
    the ministry or in a region. 422 `course_schedule_invalid`, `course_region_invalid`."""
    return services.create_course(actor=current_caller(), **data)


@blp.route("/courses", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(CourseListArgsSchema, location="query")
@blp.response(200, page_of(CourseSchema))
def list_courses(args: dict[str, Any]) -> Any:
    """The course catalogue, newest first."""
    return services.list_courses(**args)


@blp.route("/courses/<course_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, CourseSchema)
def get_course(course_id: str) -> Any:
    """One course, with its open seats."""
    return services.get_course(course_id=course_id)


@blp.route("/courses/<course_id>/enrolments", methods=["POST"])
@requires(*MUNICIPAL_ROLES)
@blp.arguments(NoBodySchema)
@blp.response(201, EnrolmentSchema)
def enrol(_data: dict[str, Any], course_id: str) -> Any:
    """Take a place on a course. 409 `course_full`, `already_enrolled`, `course_started`,
    `course_audience_mismatch`."""
    return services.enrol(actor=current_caller(), course=services.get_course(course_id=course_id))


@blp.route("/courses/<course_id>/enrolments", methods=["GET"])
@requires(*MINISTRY_STAFF)
@blp.arguments(TrainingPageArgsSchema, location="query")
@blp.response(200, page_of(EnrolmentSchema))
def list_enrolments(args: dict[str, Any], course_id: str) -> Any:
    """The course's roll, in enrolment order."""
    course = services.get_course(course_id=course_id)
    return services.list_course_enrolments(actor=current_caller(), course=course, **args)


def _enrolment(enrolment_id: str) -> Any:
    return services.get_enrolment(viewer=current_caller(), enrolment_id=enrolment_id)


@blp.route("/enrolments/<enrolment_id>", methods=["GET"])
@requires(*ALL_ROLES)
@blp.response(200, TrainingEntrySchema)
def get_enrolment(enrolment_id: str) -> Any:
    """One enrolment: the learner's own, the ministry's, or an official's of their people."""
    return _enrolment(enrolment_id)


@blp.route("/enrolments/<enrolment_id>/attendance", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(EnrolmentAttendanceSchema)
@blp.response(200, EnrolmentSchema)
def record_attendance(data: dict[str, Any], enrolment_id: str) -> Any:
    """Mark the learner present on a day of the course (1..days, not ahead of time)."""
    return services.record_attendance(
        actor=current_caller(), enrolment=_enrolment(enrolment_id), **data
    )


@blp.route("/enrolments/<enrolment_id>/complete", methods=["POST"])
@requires(*MINISTRY_STAFF)
@blp.arguments(NoBodySchema)
@blp.response(200, EnrolmentSchema)
def complete_enrolment(_data: dict[str, Any], enrolment_id: str) -> Any:
    """Mark the course completed (every day attended, else 409 `attendance_incomplete`); it
    counts in the municipality's capacity-building indicator."""
    return services.complete_enrolment(actor=current_caller(), enrolment=_enrolment(enrolment_id))


@blp.route("/enrolments/<enrolment_id>/rating", methods=["POST"])
@requires(*MUNICIPAL_ROLES)
@blp.arguments(EnrolmentRatingSchema)
@blp.response(200, EnrolmentSchema)
def rate_enrolment(data: dict[str, Any], enrolment_id: str) -> Any:
    """The learner rates a completed course once, 1-5 (training satisfaction)."""
    return services.rate_enrolment(
        actor=current_caller(), enrolment=_enrolment(enrolment_id), **data
    )


@blp.route("/me/training-record", methods=["GET"])
@requires(*ALL_ROLES)
@blp.arguments(TrainingPageArgsSchema, location="query")
@blp.response(200, page_of(TrainingEntrySchema))
def my_training_record(args: dict[str, Any]) -> Any:
    """The caller's courses: enrolments, attendance, completions, newest first."""
    caller = current_caller()
    return services.training_record(viewer=caller, user_id=caller.id, **args)


@blp.route("/users/<user_id>/training-record", methods=["GET"])
@requires(Role.OFFICIAL, *MINISTRY_STAFF)
@blp.arguments(TrainingPageArgsSchema, location="query")
@blp.response(200, page_of(TrainingEntrySchema))
def user_training_record(args: dict[str, Any], user_id: str) -> Any:
    """A person's training record: officials for people of their municipality, the ministry
    for anyone."""
    return services.training_record(viewer=current_caller(), user_id=user_id, **args)
