"""Console login, logout, roles and tenancy, on the API's login sessions."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.permissions import Role
from tests.console.conftest import csrf_of
from tests.fixtures.identity import PASSWORD


def test_login_form_sets_a_strict_http_only_cookie_on_a_session_row(app, create_user):
    official = create_user(Role.OFFICIAL)
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    answer = client.post(
        "/console/login",
        data={"identifier": official.email, "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if "console_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthSession)) == 1
    home = client.get("/console/")
    assert home.status_code == 200
    assert official.display_name in home.get_data(as_text=True)


def test_a_post_without_the_form_token_is_refused(app, create_user):
    official = create_user(Role.OFFICIAL)
    client = app.test_client()
    client.get("/console/login")
    answer = client.post(
        "/console/login", data={"identifier": official.email, "password": PASSWORD}
    )
    assert answer.status_code == 400
    assert "console_session=" not in " ".join(answer.headers.getlist("Set-Cookie"))


def test_wrong_password_counts_a_failure_and_shows_the_korean_message(app, create_user):
    official = create_user(Role.OFFICIAL)
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    answer = client.post(
        "/console/login",
        data={"identifier": official.email, "password": "wrong-one", "csrf_token": token},
    )
    assert answer.status_code == 401
    assert 'role="alert"' in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, official.id).failed_logins == 1


def test_a_citizen_is_refused_the_console_and_keeps_no_session(app, create_user):
    citizen = create_user(Role.CITIZEN)
    client = app.test_client()
    token = csrf_of(client.get("/console/login").get_data(as_text=True))
    answer = client.post(
        "/console/login",
        data={"identifier": citizen.email, "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 403
    with app.app_context():
        session = db.session.scalar(sa.select(AuthSession))
        assert session.revoked_at is not None
    assert client.get("/console/").status_code == 302


def test_strangers_are_sent_to_the_login_page(client):
    answer = client.get("/console/projects")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/login?next=/console/projects")


def test_logout_ends_the_login_session_at_once(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    client = console_login(official)
    token = csrf_of(client.get("/console/").get_data(as_text=True))
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(AuthSession)).revoked_at is not None
    assert client.get("/console/projects").status_code == 302


def test_demotion_and_deactivation_take_effect_on_the_next_page(app, create_user, console_login):
    official = create_user(Role.OFFICIAL)
    client = console_login(official)
    assert client.get("/console/projects/new").status_code == 200
    official.role = Role.SCHEDULER
    db.session.commit()
    assert client.get("/console/projects/new").status_code == 403
    official.is_active = False
    db.session.commit()
    assert client.get("/console/projects").status_code == 302


def test_an_official_of_another_municipality_gets_404_for_pages_and_actions(
    app, create_user, create_project, other_municipality, console_login, form_token
):
    project = create_project()
    stranger = create_user(Role.OFFICIAL, municipality=other_municipality)
    client = console_login(stranger)
    assert client.get(f"/console/projects/{project.id}").status_code == 404
    assert client.get(f"/console/projects/{project.id}/edit").status_code == 404
    token = form_token(client, "/console/projects/new")
    answer = client.post(
        f"/console/projects/{project.id}/government-work",
        data={"csrf_token": token, "stage": "plan", "title": "몰래 기록"},
    )
    assert answer.status_code == 404
    listing = client.get("/console/projects").get_data(as_text=True)
    assert project.title not in listing


def test_the_menu_follows_the_role(app, create_user, console_login):
    scheduler = create_user(Role.SCHEDULER)
    page = console_login(scheduler).get("/console/").get_data(as_text=True)
    assert "/console/reports" not in page
    official = create_user(Role.OFFICIAL)
    page = console_login(official).get("/console/").get_data(as_text=True)
    assert "/console/reports" in page and "/console/projects" in page


def test_english_on_request_and_kept_in_a_cookie(app, create_user, console_login):
    client = console_login(create_user(Role.OFFICIAL))
    assert "사업" in client.get("/console/").get_data(as_text=True)
    english = client.get("/console/?lang=en")
    assert "Projects" in english.get_data(as_text=True)
    assert 'lang="en"' in client.get("/console/").get_data(as_text=True)
