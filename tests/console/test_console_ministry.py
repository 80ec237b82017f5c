"""The ministry's records in the console, as each audience may see them."""

from __future__ import annotations

from datetime import date

from backend.extensions import db
from backend.ministry import services
from backend.ministry.models import Enrolment, EnrolmentStatus
from backend.permissions import Role


def test_the_ministry_page_lists_cases_committee_disputes_and_courses(
    app, analyst, create_selected_case, create_course, create_user, console_login
):
    case = create_selected_case()
    course = create_course()
    client = console_login(analyst)
    page = client.get("/console/ministry").get_data(as_text=True)
    assert "최우수상" in page and course.title in page
    roll = client.get(f"/console/ministry/courses/{course.id}")
    assert roll.status_code == 200
    official = console_login(create_user(Role.OFFICIAL))
    assert official.get(f"/console/ministry/courses/{course.id}").status_code == 403
    assert case.award in official.get("/console/ministry").get_data(as_text=True)


def test_a_scheduler_sees_the_courses_but_not_the_selected_cases(
    app, create_selected_case, create_user, console_login
):
    case = create_selected_case()
    page = console_login(create_user(Role.SCHEDULER)).get("/console/ministry")
    assert page.status_code == 200
    assert case.award not in page.get_data(as_text=True)


def test_ministry_staff_record_attendance_and_completion(
    app, analyst, create_course, create_user, console_login, form_token, clock
):
    course = create_course(starts_on=date(2026, 3, 3), days=1)  # the clock says 2 March
    learner = create_user(Role.CITIZEN)
    enrolment = services.enrol(actor=learner, course=course)
    db.session.commit()
    clock.advance(days=1)  # the course day: attendance may be taken
    client = console_login(analyst)
    url = f"/console/ministry/courses/{course.id}"
    token = form_token(client, url)
    present = client.post(
        f"/console/enrolments/{enrolment.id}/attendance", data={"csrf_token": token, "day": "1"}
    )
    assert present.status_code == 303, present.get_data(as_text=True)[:1500]
    done = client.post(f"/console/enrolments/{enrolment.id}/complete", data={"csrf_token": token})
    assert done.status_code == 303, done.get_data(as_text=True)[:1500]
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.COMPLETED


def test_a_selected_case_gets_funding_from_the_ministry_only(
    app, analyst, create_selected_case, create_user, console_login, form_token
):
    case = create_selected_case()
    client = console_login(analyst)
    url = f"/console/ministry/cases/{case.id}"
    token = form_token(client, url)
    funded = client.post(
        f"{url}/fundings",
        data={"csrf_token": token, "year": "2025", "amount": "30000000", "purpose": "확산 지원"},
    )
    assert funded.status_code == 303, funded.get_data(as_text=True)[:1500]
    assert "30,000,000" in client.get(url).get_data(as_text=True)
    official = console_login(create_user(Role.OFFICIAL))
    page = official.get(url).get_data(as_text=True)
    assert "확산 지원" in page and f"{url}/fundings" not in page
    refused = official.post(
        f"{url}/fundings",
        data={
            "csrf_token": form_token(official, url),
            "year": "2026",
            "amount": "1",
            "purpose": "x",
        },
    )
    assert refused.status_code == 403


def test_the_ministry_accepts_a_dispute_and_a_stranger_cannot_see_it(
    app, analyst, file_dispute, create_user, other_municipality, console_login, form_token
):
    dispute = file_dispute()
    client = console_login(analyst)
    url = f"/console/disputes/{dispute.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-state="filed"' in page and f"{url}/accept" in page
    accepted = client.post(f"{url}/accept", data={"csrf_token": form_token(client, url)})
    assert accepted.status_code == 303, accepted.get_data(as_text=True)[:1500]
    assert 'data-state="accepted"' in client.get(url).get_data(as_text=True)
    stranger = console_login(create_user(Role.OFFICIAL, municipality=other_municipality))
    assert stranger.get(url).status_code == 404
