"""Courses: the brief's schedule, enrolment with capacity, attendance, completion, rating, and
completions counting in the municipality's capacity-building indicator."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.errors import PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.ministry import services
from backend.ministry.indicators import indicator_report
from backend.ministry.models import CourseAudience, CourseHost, EnrolmentStatus
from backend.participation.models import TrainingLevel
from backend.permissions import Role


@pytest.mark.parametrize(
    ("level", "starts_on", "days"),
    [
        ("basic", date(2026, 9, 1), 1),  # basic in the second half
        ("basic", date(2026, 4, 1), 2),  # basic longer than a day
        ("advanced", date(2026, 4, 1), 2),  # advanced in the first half
        ("advanced", date(2026, 9, 1), 1),  # advanced of one day
    ],
)
def test_course_schedule_follows_the_brief(clock, analyst, level, starts_on, days):
    with pytest.raises(ValidationFailed) as caught:
        services.create_course(
            actor=analyst,
            title="과정",
            level=TrainingLevel(level),
            audience=CourseAudience.ALL,
            host=CourseHost.MINISTRY,
            place="세종",
            starts_on=starts_on,
            days=days,
            capacity=10,
        )
    assert caught.value.code == "course_schedule_invalid"


def test_regional_course_names_its_region(clock, analyst, official):
    kwargs = {
        "title": "권역 기초과정",
        "level": TrainingLevel.BASIC,
        "audience": CourseAudience.ALL,
        "place": "수원",
        "starts_on": date(2026, 5, 1),
        "days": 1,
        "capacity": 10,
    }
    with pytest.raises(ValidationFailed):
        services.create_course(actor=analyst, host=CourseHost.REGION, **kwargs)
    course = services.create_course(
        actor=analyst, host=CourseHost.REGION, region="경기도", **kwargs
    )
    assert course.region == "경기도"
    with pytest.raises(PermissionDenied):
        services.create_course(actor=official, host=CourseHost.MINISTRY, **kwargs)


def test_full_course_refuses_and_duplicates_are_refused(clock, create_course, create_user):
    course = create_course(capacity=1)
    first = create_user(Role.OFFICIAL)
    services.enrol(actor=first, course=course)
    db.session.commit()
    with pytest.raises(RuleViolation) as again:
        services.enrol(actor=first, course=course)
    assert again.value.code == "already_enrolled"
    with pytest.raises(RuleViolation) as full:
        services.enrol(actor=create_user(Role.CITIZEN), course=course)
    assert full.value.code == "course_full"
    db.session.rollback()
    assert course.enrolled_count == 1


def test_audience_is_respected(clock, create_course, create_user):
    course = create_course(audience="officials")
    with pytest.raises(RuleViolation) as caught:
        services.enrol(actor=create_user(Role.CITIZEN), course=course)
    assert caught.value.code == "course_audience_mismatch"


def test_attendance_completion_rating_and_the_indicator(
    clock, analyst, official, municipality, create_course
):
    course = create_course(level="advanced", starts_on=date(2026, 9, 8), days=2)
    enrolment = services.enrol(actor=official, course=course)
    db.session.commit()
    with pytest.raises(RuleViolation) as ahead:
        services.record_attendance(actor=analyst, enrolment=enrolment, day=1)
    assert ahead.value.code == "course_day_ahead"
    clock.set(datetime(2026, 9, 9, 9, 0, tzinfo=UTC))
    services.record_attendance(actor=analyst, enrolment=enrolment, day=1)
    with pytest.raises(RuleViolation) as incomplete:
        services.complete_enrolment(actor=analyst, enrolment=enrolment)
    assert incomplete.value.code == "attendance_incomplete"
    with pytest.raises(RuleViolation) as early:
        services.rate_enrolment(actor=official, enrolment=enrolment, rating=5)
    assert early.value.code == "enrolment_not_completed"
    services.record_attendance(actor=analyst, enrolment=enrolment, day=2)
    services.complete_enrolment(actor=analyst, enrolment=enrolment)
    services.rate_enrolment(actor=official, enrolment=enrolment, rating=4)
    db.session.commit()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert enrolment.attended_days == [1, 2]

    (row,) = indicator_report(viewer=analyst, year=2026, municipality_id=municipality.id)
    assert row.course_completions == 1
    assert row.training_satisfaction.responses == 1
    assert row.training_satisfaction.mean == 4.0
    (earlier,) = indicator_report(viewer=analyst, year=2025, municipality_id=municipality.id)
    assert earlier.course_completions == 0


def test_training_record_is_scoped(
    clock, official, create_course, create_user, other_municipality, analyst
):
    course = create_course()
    services.enrol(actor=official, course=course)
    db.session.commit()
    page = services.training_record(viewer=official, user_id=official.id, limit=10, cursor=None)
    assert len(page.items) == 1
    assert services.training_record(viewer=analyst, user_id=official.id, limit=10, cursor=None)
    stranger = create_user(Role.OFFICIAL, municipality=other_municipality)
    with pytest.raises(Exception) as caught:
        services.training_record(viewer=stranger, user_id=official.id, limit=10, cursor=None)
    assert caught.value.code == "user_not_found"
