"""The ministry's records in the console, as each audience may see them."""

from __future__ import annotations

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
