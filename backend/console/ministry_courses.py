"""Training courses in the console (ministry staff): add a course to the catalogue; a course's
roll with attendance per day and completion. The programme's rules (a basic course is one day
in the first half of the year, attendance not ahead of time, completion only with every day
attended) are the service's."""

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
    CourseCreateSchema,
    CourseSchema,
    EnrolmentAttendanceSchema,
    EnrolmentSchema,
)


def _course_page(course_id: str, status: int = 200, **context: Any) -> Any:
    course = services.get_course(course_id=course_id)
    roll = services.list_course_enrolments(actor=current_user(), course=course, **page_args())
    return page(
        "course.html",
        status,
        course=CourseSchema().dump(course),
        roll=roll,
        enrolments=EnrolmentSchema(many=True).dump(roll.items),
        **context,
    )


@bp.route("/ministry/courses", methods=["POST"])
@mirrors(api.create_course)
def course_new() -> Any:
    """Add a course to the catalogue (ministry staff)."""
    from backend.console.ministry import _ministry_page

    saved, errors = submit(
        CourseCreateSchema(),
        partial(services.create_course, actor=current_user()),
        lambda course: done("console.course", course_id=course.id),
    )
    return saved or _ministry_page(422, errors=errors)


@bp.route("/ministry/courses/<course_id>")
@mirrors(api.list_enrolments)
def course(course_id: str) -> Any:
    """A course's roll with attendance, in enrolment order (ministry staff)."""
    return _course_page(course_id)


def _course_write(enrolment_id: str, write: Any, schema: Any = None) -> Any:
    actor = current_user()
    enrolment = services.get_enrolment(viewer=actor, enrolment_id=enrolment_id)
    data, errors = load_form(schema()) if schema is not None else ({}, {})
    if data is not None:
        try:
            write(actor=actor, enrolment=enrolment, **data)
            return done("console.course", course_id=enrolment.course_id)
        except DomainError as error:
            errors = domain_errors(error)
    return _course_page(enrolment.course_id, 422, errors=errors)


@bp.route("/enrolments/<enrolment_id>/attendance", methods=["POST"])
@mirrors(api.record_attendance)
def enrolment_attendance(enrolment_id: str) -> Any:
    """Mark a learner present on a day of the course."""
    return _course_write(enrolment_id, services.record_attendance, EnrolmentAttendanceSchema)


@bp.route("/enrolments/<enrolment_id>/complete", methods=["POST"])
@mirrors(api.complete_enrolment)
def enrolment_complete(enrolment_id: str) -> Any:
    """Mark the course completed (every day attended)."""
    return _course_write(enrolment_id, services.complete_enrolment)
