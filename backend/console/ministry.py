"""The ministry's records as officials and ministry staff see them: selected good cases, the
mediation committee and dispute cases, training courses with their rolls.

Rows are dumped with the API's output schemas, so each audience sees what the API shows it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from backend.api import ministry as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.forms import domain_errors, load_form, submit
from backend.console.pages import done, page, page_args
from backend.errors import DomainError
from backend.ministry import services
from backend.ministry.schemas import (
    CourseSchema,
    DisputeAcceptSchema,
    DisputeReasonSchema,
    DisputeSchema,
    DisputeSettleSchema,
    DisputeWithdrawSchema,
    EnrolmentAttendanceSchema,
    EnrolmentSchema,
    FollowUpCreateSchema,
    FollowUpSchema,
    FundingCreateSchema,
    FundingSchema,
    MediationMemberSchema,
    SelectedCaseSchema,
)
from backend.permissions import is_ministry_staff


@bp.route("/ministry")
@mirrors(api.list_selected_cases, api.list_disputes, api.list_courses)
def ministry() -> Any:
    """Selected cases, the mediation committee and disputes, and the course catalogue."""
    viewer = current_user()
    cases = None
    if viewer.role in api.list_selected_cases.access.roles:
        cases = services.list_selected_cases(viewer=viewer, limit=50, cursor=None).items
    disputes = services.list_disputes(viewer=viewer, limit=50, cursor=None).items
    courses = services.list_courses(limit=50, cursor=None).items
    return page(
        "ministry.html",
        cases=SelectedCaseSchema(many=True).dump(cases) if cases is not None else None,
        members=MediationMemberSchema(many=True).dump(services.committee_members()),
        disputes=DisputeSchema(many=True).dump(disputes),
        courses=CourseSchema(many=True).dump(courses),
        staff=is_ministry_staff(viewer),
    )


@bp.route("/ministry/courses/<course_id>")
@mirrors(api.list_enrolments)
def course(course_id: str) -> Any:
    """A course's roll with attendance, in enrolment order (ministry staff)."""
    course = services.get_course(course_id=course_id)
    roll = services.list_course_enrolments(actor=current_user(), course=course, **page_args())
    return page(
        "course.html",
        course=CourseSchema().dump(course),
        roll=roll,
        enrolments=EnrolmentSchema(many=True).dump(roll.items),
    )


def _course_write(enrolment_id: str, write: Any, **extra: Any) -> Any:
    actor = current_user()
    enrolment = services.get_enrolment(viewer=actor, enrolment_id=enrolment_id)
    data, errors = load_form(EnrolmentAttendanceSchema()) if extra.get("with_day") else ({}, {})
    if data is not None:
        try:
            write(actor=actor, enrolment=enrolment, **data)
            return done("console.course", course_id=enrolment.course_id)
        except DomainError as error:
            errors = domain_errors(error)
    return _error_page_for(enrolment.course_id, errors)


def _error_page_for(course_id: str, errors: dict[str, list[str]]) -> Any:
    course = services.get_course(course_id=course_id)
    roll = services.list_course_enrolments(actor=current_user(), course=course, **page_args())
    return page(
        "course.html",
        422,
        course=CourseSchema().dump(course),
        roll=roll,
        enrolments=EnrolmentSchema(many=True).dump(roll.items),
        errors=errors,
    )


@bp.route("/enrolments/<enrolment_id>/attendance", methods=["POST"])
@mirrors(api.record_attendance)
def enrolment_attendance(enrolment_id: str) -> Any:
    """Mark a learner present on a day of the course."""
    return _course_write(enrolment_id, services.record_attendance, with_day=True)


@bp.route("/enrolments/<enrolment_id>/complete", methods=["POST"])
@mirrors(api.complete_enrolment)
def enrolment_complete(enrolment_id: str) -> Any:
    """Mark the course completed (every day attended)."""
    return _course_write(enrolment_id, services.complete_enrolment)


def _case_page(case_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    case = services.get_selected_case(viewer=viewer, case_id=case_id)
    return page(
        "selected_case.html",
        status,
        case=SelectedCaseSchema().dump(case),
        follow_ups=FollowUpSchema(many=True).dump(services.list_follow_ups(case=case)),
        fundings=FundingSchema(many=True).dump(services.list_case_fundings(case=case)),
        **context,
    )


@bp.route("/ministry/cases/<case_id>")
@mirrors(api.get_selected_case, api.list_follow_ups, api.list_fundings)
def selected_case(case_id: str) -> Any:
    """A selected case with its yearly follow-ups and its central funding."""
    return _case_page(case_id)


def _case_write(case_id: str, schema: Any, write: Any) -> Any:
    actor = current_user()
    case = services.get_selected_case(viewer=actor, case_id=case_id)
    saved, errors = submit(
        schema(),
        partial(write, actor=actor, case=case),
        lambda _: done("console.selected_case", case_id=case_id),
    )
    return saved or _case_page(case_id, 422, errors=errors)


@bp.route("/ministry/cases/<case_id>/follow-ups", methods=["POST"])
@mirrors(api.create_follow_up)
def case_follow_up(case_id: str) -> Any:
    """File the case's follow-up for a year (the platform fills what it knows)."""
    return _case_write(case_id, FollowUpCreateSchema, services.create_follow_up)


@bp.route("/ministry/cases/<case_id>/fundings", methods=["POST"])
@mirrors(api.add_funding)
def case_funding(case_id: str) -> Any:
    """Record central funding granted to the case for a year (ministry staff)."""
    return _case_write(case_id, FundingCreateSchema, services.add_case_funding)


# ---- dispute cases --------------------------------------------------------------------------

#: The state a move leads to (DISPUTE_TRANSITIONS names states), its API view, service and form.
DISPUTE_MOVES: dict[str, tuple[str, Any, Any, Any]] = {
    "accepted": ("accept", api.accept_dispute, services.accept_dispute, DisputeAcceptSchema),
    "rejected": ("reject", api.reject_dispute, services.reject_dispute, DisputeReasonSchema),
    "in_mediation": ("start-mediation", api.start_mediation, services.start_mediation, None),
    "settled": ("settle", api.settle_dispute, services.settle_dispute, DisputeSettleSchema),
    "not_settled": (
        "close-unsettled",
        api.close_unsettled,
        services.close_unsettled,
        DisputeReasonSchema,
    ),
    "withdrawn": (
        "withdraw",
        api.withdraw_dispute,
        services.withdraw_dispute,
        DisputeWithdrawSchema,
    ),
}


def _dispute_page(dispute_id: str, status: int = 200, **context: Any) -> Any:
    dispute = services.get_dispute(viewer=current_user(), dispute_id=dispute_id)
    return page(
        "dispute.html",
        status,
        dispute=DisputeSchema().dump(dispute),
        moves=[(state, DISPUTE_MOVES[state]) for state in dispute.allowed_moves],
        **context,
    )


@bp.route("/disputes/<dispute_id>")
@mirrors(api.get_dispute)
def dispute(dispute_id: str) -> Any:
    """A dispute case: parties, claims, mediators, hearings and the moves allowed now."""
    return _dispute_page(dispute_id)


def _dispute_move(write: Any, schema: Any) -> Any:
    def move(dispute_id: str) -> Any:
        actor = current_user()
        case = services.get_dispute(viewer=actor, dispute_id=dispute_id)
        data, errors = load_form(schema()) if schema is not None else ({}, {})
        if data is not None:
            try:
                write(actor=actor, dispute=case, **data)
                return done("console.dispute", dispute_id=dispute_id)
            except DomainError as error:
                errors = domain_errors(error)
        return _dispute_page(dispute_id, 422, errors=errors)

    return move


for _state, (_path, _api_view, _write, _schema) in DISPUTE_MOVES.items():
    _view = _dispute_move(_write, _schema)
    _view.__name__ = _view.__qualname__ = f"dispute_{_state}"
    _view.__doc__ = f"Move the case to `{_state}` (the service checks who may)."
    bp.add_url_rule(
        f"/disputes/<dispute_id>/{_path}",
        endpoint=f"dispute_{_state}",
        view_func=mirrors(_api_view)(_view),
        methods=["POST"],
    )
