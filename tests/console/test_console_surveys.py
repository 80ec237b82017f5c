"""Surveys in the console: open one, read its results and comments."""

from __future__ import annotations

from backend.extensions import db
from backend.participation import services
from backend.permissions import Role


def test_open_a_survey_and_read_its_results(
    app, create_user, create_project, create_activity, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    project = create_project()
    client = console_login(official)
    url = f"/console/projects/{project.id}/surveys"
    token = form_token(client, url)
    created = client.post(url, data={"csrf_token": token, "title": "사업 만족도"})
    assert created.status_code == 303, created.get_data(as_text=True)[:1500]
    survey = services.list_project_surveys(project=project, limit=5, cursor=None).items[0]
    page = client.get(url).get_data(as_text=True)
    assert "사업 만족도" in page and "data-responses>0<" in page
    assert client.get(f"/console/surveys/{survey.id}").status_code == 200
    db.session.rollback()


def test_a_scheduler_sees_results_but_not_the_comments(
    app, create_user, create_project, console_login
):
    project = create_project()
    official = create_user(Role.OFFICIAL)
    survey = services.create_survey(actor=official, project=project, title="만족도")
    db.session.commit()
    client = console_login(create_user(Role.SCHEDULER))
    assert client.get(f"/console/projects/{project.id}/surveys").status_code == 200
    assert client.get(f"/console/surveys/{survey.id}").status_code == 403
