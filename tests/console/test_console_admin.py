"""Admins: staff accounts, roles, municipalities and the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.identity.models import User
from backend.permissions import Role


def test_an_admin_creates_a_staff_account_then_demotes_it(
    app, create_user, municipality, console_login, form_token
):
    client = console_login(create_user(Role.ADMIN))
    token = form_token(client, "/console/admin/users")
    created = client.post(
        "/console/admin/users",
        data={
            "csrf_token": token,
            "display_name": "새 담당자",
            "email": "new.official@example.test",
            "password": "a-long-password-1",
            "role": "official",
            "municipality_id": municipality.id,
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)[:1500]
    user = db.session.scalar(sa.select(User).where(User.email == "new.official@example.test"))
    assert user.role == Role.OFFICIAL
    changed = client.post(
        f"/console/admin/users/{user.id}",
        data={"csrf_token": token, "role": "scheduler", "is_active": "1"},
    )
    assert changed.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).role == Role.SCHEDULER
    log = client.get("/console/admin/audit?action=user.update").get_data(as_text=True)
    assert 'data-action="user.update"' in log and 'data-action="user.create"' not in log


def test_officials_see_their_accounts_but_not_the_audit_log(app, create_user, console_login):
    client = console_login(create_user(Role.OFFICIAL))
    assert client.get("/console/admin/users").status_code == 200
    assert client.get("/console/admin/audit").status_code == 403
    assert client.get("/console/admin/municipalities").status_code == 403
    page = client.get("/console/").get_data(as_text=True)
    assert "/console/admin/audit" not in page
