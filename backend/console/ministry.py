"""The ministry's records as officials and ministry staff see them: selected good cases, the
mediation committee and dispute cases, training courses with their rolls.

Rows are dumped with the API's output schemas, so each audience sees what the API shows it.
"""

from __future__ import annotations

from typing import Any

from backend.api import ministry as api
from backend.console import bp
from backend.console.auth import current_user, mirrors
from backend.console.pages import page, page_args
from backend.ministry import services
from backend.ministry.schemas import (
    CourseSchema,
    DisputeSchema,
    EnrolmentSchema,
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
