"""The ministry's records as officials and ministry staff see them: the overview page, and the
selected good cases with their yearly follow-ups and central funding.

Rows are dumped with the API's output schemas, so each audience sees what the API shows it.
The mediation committee, the dispute cases and the courses have their own modules (imported at
the end, so their views attach to the blueprint with this one).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import request

from backend.api import ministry as api
from backend.console import bp
from backend.console.auth import current_user, may_open, mirrors
from backend.console.forms import submit
from backend.console.pages import done, page
from backend.ministry import services
from backend.ministry.models import CourseAudience, CourseHost
from backend.ministry.schemas import (
    CourseSchema,
    DisputeSchema,
    FollowUpCreateSchema,
    FollowUpSchema,
    FundingCreateSchema,
    FundingSchema,
    MediationMemberSchema,
    SelectedCaseCreateSchema,
    SelectedCaseSchema,
    SelectedCaseUpdateSchema,
)
from backend.participation import services as participation
from backend.participation.models import TrainingLevel
from backend.permissions import is_ministry_staff


def _ministry_page(status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    cases = None
    if viewer.role in api.list_selected_cases.access.roles:
        cases = services.list_selected_cases(viewer=viewer, limit=50, cursor=None).items
    disputes = services.list_disputes(viewer=viewer, limit=50, cursor=None).items
    courses = services.list_courses(limit=50, cursor=None).items
    projects = None
    if may_open("console.selected_case_new"):
        projects = _selectable_projects()
    return page(
        "ministry.html",
        status,
        cases=SelectedCaseSchema(many=True).dump(cases) if cases is not None else None,
        members=MediationMemberSchema(many=True).dump(services.committee_members()),
        disputes=DisputeSchema(many=True).dump(disputes),
        courses=CourseSchema(many=True).dump(courses),
        staff=is_ministry_staff(viewer),
        projects=projects,
        levels=list(TrainingLevel),
        audiences=list(CourseAudience),
        hosts=list(CourseHost),
        form=request.form,
        **context,
    )


def _selectable_projects() -> list[Any]:
    """The projects a good case may be picked from: the viewer's (all, for the ministry), newest
    first; the service refuses a draft with its own message."""
    return participation.list_projects(viewer=current_user(), limit=100, cursor=None).items


@bp.route("/ministry")
@mirrors(api.list_selected_cases, api.list_disputes, api.list_courses)
def ministry() -> Any:
    """Selected cases, the mediation committee and disputes, and the course catalogue."""
    return _ministry_page()


@bp.route("/ministry/cases", methods=["POST"])
@mirrors(api.create_selected_case)
def selected_case_new() -> Any:
    """Pick a project as a good case of a contest year (ministry staff)."""
    saved, errors = submit(
        SelectedCaseCreateSchema(),
        partial(services.create_selected_case, actor=current_user()),
        lambda case: done("console.selected_case", case_id=case.id),
    )
    return saved or _ministry_page(422, errors=errors)


def _case_page(case_id: str, status: int = 200, **context: Any) -> Any:
    viewer = current_user()
    case = services.get_selected_case(viewer=viewer, case_id=case_id)
    return page(
        "selected_case.html",
        status,
        case=SelectedCaseSchema().dump(case),
        follow_ups=FollowUpSchema(many=True).dump(services.list_follow_ups(case=case)),
        fundings=FundingSchema(many=True).dump(services.list_case_fundings(case=case)),
        form=request.form,
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


@bp.route("/ministry/cases/<case_id>/edit", methods=["POST"])
@mirrors(api.update_selected_case)
def selected_case_edit(case_id: str) -> Any:
    """Correct the case's award, category or note (ministry staff)."""
    actor = current_user()
    case = services.get_selected_case(viewer=actor, case_id=case_id)
    saved, errors = submit(
        SelectedCaseUpdateSchema(),
        partial(services.update_selected_case, actor=actor, case=case),
        lambda _: done("console.selected_case", case_id=case_id),
        # A blank note clears it (other blank fields are "not given").
        note=request.form.get("note", ""),
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


# The other ministry pages attach their views to `bp` (imported for that effect).
from backend.console import (  # noqa: E402, F401
    ministry_committee,
    ministry_courses,
    ministry_disputes,
)
