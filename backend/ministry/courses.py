"""Ministry: training courses, enrolments, attendance, completion and ratings."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from backend.audit.services import save_and_audit
from backend.clock import seoul_today, utcnow
from backend.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.identity.models import User
from backend.ministry.models import (
    Course,
    CourseAudience,
    CourseHost,
    Enrolment,
    EnrolmentStatus,
)
from backend.ministry.shared import _ensure_ministry
from backend.pagination import Page, paginate, where_given
from backend.participation.models import TrainingLevel
from backend.permissions import (
    can_see_enrolment,
    can_see_learner,
    can_take_course,
)
from backend.rows import get_visible, list_page

# ---- training courses -----------------------------------------------------------------------


def _check_course_schedule(level: TrainingLevel, starts_on: date, days: int) -> None:
    """The brief's programme: basic is 1 day in the first half, advanced 2-3 in the second."""
    if level == TrainingLevel.BASIC and (days != 1 or starts_on.month > 6):
        raise ValidationFailed(
            "A basic course lasts one day in the first half of the year.",
            code="course_schedule_invalid",
            fields={"days": ["A basic course is 1 day, January to June."]},
        )
    if level == TrainingLevel.ADVANCED and (days not in (2, 3) or starts_on.month < 7):
        raise ValidationFailed(
            "An advanced course lasts two or three days in the second half of the year.",
            code="course_schedule_invalid",
            fields={"days": ["An advanced course is 2-3 days, July to December."]},
        )


def create_course(
    *,
    actor: User,
    title: str,
    level: TrainingLevel,
    audience: CourseAudience,
    host: CourseHost,
    place: str,
    starts_on: date,
    days: int,
    capacity: int,
    region: str | None = None,
    description: str = "",
) -> Course:
    """Ministry staff add a course to the catalogue."""
    _ensure_ministry(actor)
    _check_course_schedule(level, starts_on, days)
    if (host == CourseHost.REGION) != bool(region and region.strip()):
        raise ValidationFailed(
            "A regional course names its region; a ministry course does not.",
            code="course_region_invalid",
            fields={"region": ["Required exactly when host is region."]},
        )
    course = Course(
        title=title.strip(),
        level=level,
        audience=audience,
        host=host,
        region=region.strip() if region else None,
        place=place.strip(),
        description=description,
        starts_on=starts_on,
        days=days,
        capacity=capacity,
        enrolled_count=0,
        created_by=actor.id,
    )
    save_and_audit(
        course,
        actor=actor,
        action="course.create",
        target_type="course",
        municipality_id=None,
        details={"title": course.title, "level": level.value, "starts_on": starts_on.isoformat()},
    )
    return course


def get_course(*, course_id: str) -> Course:
    """A course of the catalogue (everyone signed in may read it)."""
    return get_visible(Course, course_id, None, "course_not_found")


def list_courses(
    *,
    limit: int,
    cursor: str | None,
    level: TrainingLevel | None = None,
    year: int | None = None,
) -> Page:
    """The catalogue, newest first."""
    query = sa.select(Course)
    query = where_given(query, {Course.level: level})
    if year is not None:
        query = query.where(Course.starts_on.between(date(year, 1, 1), date(year, 12, 31)))
    return paginate(query, Course.id, limit=limit, cursor=cursor)


_COURSES = Course.__table__
_TAKE_COURSE_SEAT = (
    sa.update(_COURSES)
    .where(
        _COURSES.c.id == sa.bindparam("course_id"), _COURSES.c.enrolled_count < _COURSES.c.capacity
    )
    .values(enrolled_count=_COURSES.c.enrolled_count + 1)
)


def enrol(*, actor: User, course: Course) -> Enrolment:
    """The caller takes a place on a course, refused atomically when it is full."""
    if not can_take_course(actor, course):
        raise RuleViolation(
            f"This course is for {course.audience.value}.", code="course_audience_mismatch"
        )
    if course.starts_on <= seoul_today():
        raise RuleViolation("The course has started.", code="course_started")
    exists = db.session.scalar(
        sa.select(Enrolment.id).where(
            Enrolment.course_id == course.id, Enrolment.user_id == actor.id
        )
    )
    if exists:
        raise RuleViolation("You are enrolled already.", code="already_enrolled")
    result = db.session.execute(_TAKE_COURSE_SEAT, {"course_id": course.id})
    if result.rowcount == 0:
        raise RuleViolation("The course is full.", code="course_full")
    db.session.expire(course, ["enrolled_count"])
    enrolment = Enrolment(
        course_id=course.id,
        user_id=actor.id,
        municipality_id=actor.municipality_id,
        status=EnrolmentStatus.ENROLLED,
        attended_days=[],
    )
    save_and_audit(
        enrolment,
        actor=actor,
        action="course.enrol",
        target_type="enrolment",
        municipality_id=actor.municipality_id,
        details={"course_id": course.id},
    )
    return enrolment


def get_enrolment(*, viewer: User, enrolment_id: str) -> Enrolment:
    """An enrolment: the learner, the ministry, and officials of the learner's municipality."""
    return get_visible(Enrolment, enrolment_id, viewer, "enrolment_not_found", can_see_enrolment)


def list_course_enrolments(*, actor: User, course: Course, limit: int, cursor: str | None) -> Page:
    """A course's roll (ministry staff), in enrolment order."""
    _ensure_ministry(actor)
    return list_page(
        Enrolment,
        filters={Enrolment.course_id: course.id},
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )


def record_attendance(*, actor: User, enrolment: Enrolment, day: int) -> Enrolment:
    """Ministry staff mark a learner present on one day of the course."""
    _ensure_ministry(actor)
    course = enrolment.course
    if not 1 <= day <= course.days:
        raise ValidationFailed(
            "No such day of the course.",
            code="course_day_invalid",
            fields={"day": [f"Between 1 and {course.days}."]},
        )
    if course.starts_on + timedelta(days=day - 1) > seoul_today():
        raise RuleViolation("That day of the course has not come yet.", code="course_day_ahead")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise RuleViolation("The enrolment is completed.", code="enrolment_completed")
    if day not in enrolment.attended_days:
        enrolment.attended_days = sorted([*enrolment.attended_days, day])
        save_and_audit(
            enrolment,
            actor=actor,
            action="course.attendance",
            target_type="enrolment",
            details={"day": day},
        )
    return enrolment


def complete_enrolment(*, actor: User, enrolment: Enrolment) -> Enrolment:
    """Ministry staff mark the course completed: every day must have been attended."""
    _ensure_ministry(actor)
    if enrolment.status == EnrolmentStatus.COMPLETED:
        raise RuleViolation("The enrolment is completed.", code="enrolment_completed")
    missing = [d for d in range(1, enrolment.course.days + 1) if d not in enrolment.attended_days]
    if missing:
        raise RuleViolation(
            "Attendance is missing for some days.",
            code="attendance_incomplete",
            fields={"attended_days": [f"Missing days: {', '.join(map(str, missing))}."]},
        )
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.completed_at = utcnow()
    save_and_audit(
        enrolment,
        actor=actor,
        action="course.complete",
        target_type="enrolment",
        details={"course_id": enrolment.course_id, "user_id": enrolment.user_id},
    )
    return enrolment


def rate_enrolment(
    *, actor: User, enrolment: Enrolment, rating: int, comment: str = ""
) -> Enrolment:
    """The learner rates a completed course, once (the indicator's training satisfaction)."""
    if actor.id != enrolment.user_id:
        raise PermissionDenied("Only the learner rates the course.")
    if enrolment.status != EnrolmentStatus.COMPLETED:
        raise RuleViolation("Rate the course once completed.", code="enrolment_not_completed")
    if enrolment.rating is not None:
        raise RuleViolation("You rated this course already.", code="already_rated")
    enrolment.rating = rating
    enrolment.rating_comment = comment
    save_and_audit(
        enrolment,
        actor=actor,
        action="course.rate",
        target_type="enrolment",
        details={"rating": rating},
    )
    return enrolment


def training_record(*, viewer: User, user_id: str, limit: int, cursor: str | None) -> Page:
    """A person's enrolments and completions, newest first."""
    user = db.session.get(User, user_id)
    if user is None or not can_see_learner(viewer, user.id, user.municipality_id):
        raise NotFound("User not found.", code="user_not_found")
    return list_page(Enrolment, filters={Enrolment.user_id: user.id}, limit=limit, cursor=cursor)
