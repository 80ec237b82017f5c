"""Projects, activities, the attendance queue and reports through the console's forms."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import SEOUL, utcnow
from backend.extensions import db
from backend.participation import services
from backend.participation.models import Participation, ParticipationStatus, Project
from backend.permissions import Role


def _local(moment) -> str:
    return moment.astimezone(SEOUL).strftime("%Y-%m-%dT%H:%M")


def test_create_a_project_then_its_stage_mode_and_government_work(
    app, create_user, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    client = console_login(official)
    token = form_token(client, "/console/projects/new")
    today = utcnow().astimezone(SEOUL).date()
    answer = client.post(
        "/console/projects/new",
        data={
            "csrf_token": token,
            "title": "골목 안전 지도",
            "field": "safety",
            "starts_on": str(today - timedelta(days=10)),
            "ends_on": str(today + timedelta(days=100)),
            "status": "active",
            "visibility": "public",
        },
    )
    assert answer.status_code == 303
    project = db.session.scalar(sa.select(Project).where(Project.title == "골목 안전 지도"))
    assert project.municipality_id == official.municipality_id
    url = f"/console/projects/{project.id}"
    assert answer.headers["Location"].startswith(url)
    page = client.get(url).get_data(as_text=True)
    assert page.count('data-mode="unclear"') == 4

    work = client.post(
        f"{url}/government-work",
        data={"csrf_token": token, "stage": "plan", "title": "기본계획 수립"},
    )
    assert work.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert 'id="stage-plan"' in page and "기본계획 수립" in page
    plan = page.split('id="stage-plan"')[1].split("</li>")[0]
    assert 'data-mode="government"' in plan

    override = client.post(
        f"{url}/stages/decide/mode", data={"csrf_token": token, "mode": "joint", "reason": "회의록"}
    )
    assert override.status_code == 303
    decide = client.get(url).get_data(as_text=True).split('id="stage-decide"')[1]
    assert 'data-mode="joint"' in decide.split("</li>")[0]
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"project.create", "government_work.create", "stage.mode_override"} <= actions


def test_a_form_that_breaks_a_rule_is_shown_again_and_nothing_is_written(
    app, create_user, console_login, form_token
):
    client = console_login(create_user(Role.OFFICIAL))
    token = form_token(client, "/console/projects/new")
    answer = client.post(
        "/console/projects/new",
        data={
            "csrf_token": token,
            "title": "거꾸로 된 날짜",
            "field": "safety",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
        },
    )
    assert answer.status_code == 422
    assert 'role="alert"' in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_activity_code_screen_and_bulk_confirmation(
    app, create_user, create_project, console_login, form_token
):
    official = create_user(Role.OFFICIAL)
    project = create_project()
    client = console_login(official)
    token = form_token(client, f"/console/projects/{project.id}/activities/new")
    start = utcnow() - timedelta(minutes=30)
    answer = client.post(
        f"/console/projects/{project.id}/activities/new",
        data={
            "csrf_token": token,
            "stage": "implement",
            "kind": "workshop",
            "title": "현장 점검",
            "starts_at": _local(start),
            "ends_at": _local(start + timedelta(hours=2)),
            "capacity": "30",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    activity_url = answer.headers["Location"].split("?")[0]
    activity_id = activity_url.rsplit("/", 1)[1]
    code_page = client.get(f"{activity_url}/code").get_data(as_text=True)
    activity = services.get_activity(viewer=official, activity_id=activity_id)
    code = services.get_check_in_code(actor=official, activity=activity).code
    assert f"data-code>{code}<" in code_page
    svg = client.get(f"{activity_url}/code.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data

    citizens = [create_user(Role.CITIZEN) for _ in range(2)]
    for citizen in citizens:
        services.join_activity(actor=citizen, activity=activity)
        services.check_in(actor=citizen, activity=activity, code=code)
    db.session.commit()
    confirm = client.post(
        f"{activity_url}/confirm",
        data={"csrf_token": token, "all_attended": "1", "hours": "1.5"},
    )
    assert confirm.status_code == 303
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Participation)).all()
    assert {(p.status, p.hours) for p in rows} == {(ParticipationStatus.CONFIRMED, 1.5)}
    page = client.get(confirm.headers["Location"]).get_data(as_text=True)
    assert "2 " in page and page.count('data-status="confirmed"') == 2


def test_reports_show_the_chart_and_give_csv(app, create_user, create_project, console_login):
    official = create_user(Role.OFFICIAL)
    create_project()
    client = console_login(official)
    page = client.get("/console/reports").get_data(as_text=True)
    assert "<svg" in page and 'data-series="unclear" data-count="1"' in page
    csv = client.get("/console/reports/stage-modes.csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).lstrip("\ufeff").startswith("stage,total,government")
    assert client.get("/console/reports/indicators.csv").status_code == 200


def test_a_scheduler_cannot_open_official_pages(app, create_user, create_project, console_login):
    project = create_project()
    client = console_login(create_user(Role.SCHEDULER))
    assert client.get("/console/projects/new").status_code == 403
    assert client.get(f"/console/projects/{project.id}/edit").status_code == 403
    assert client.get("/console/reports").status_code == 403
