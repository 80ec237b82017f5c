"""Exports made off the request and expiring, dormancy notices, one erasure for all deletions."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.identity.models import AuthSession, User
from backend.notifications.models import Notification
from backend.permissions import Role
from backend.privacy import rights
from backend.privacy.models import DataExport, DormancyPolicy, ExportStatus


def test_a_large_export_is_made_by_the_job_then_expires(app, client, clock, as_role):
    citizen, headers = as_role(Role.CITIZEN)
    app.config["DATA_EXPORT_INLINE_ROWS"], before = -1, app.config["DATA_EXPORT_INLINE_ROWS"]
    try:
        asked = client.post("/api/v1/me/exports", headers=headers)
    finally:
        app.config["DATA_EXPORT_INLINE_ROWS"] = before
    assert asked.status_code == 202 and asked.json["status"] == "pending"
    url = f"/api/v1/me/exports/{asked.json['id']}/download"
    assert client.get(url, headers=headers).json["error"]["code"] == "export_not_ready"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "exports"])
    assert "Made 1 exports." in result.output, result.output
    db.session.expire_all()
    assert (
        client.get(f"/api/v1/me/exports/{asked.json['id']}", headers=headers).json["status"]
        == "ready"
    )
    assert client.get(url, headers=headers).json["profile"]["id"] == citizen.id
    clock.advance(hours=app.config["DATA_EXPORT_HOURS"] + 1)
    expired = client.get(url, headers=headers)
    assert expired.status_code == 409 and expired.json["error"]["code"] == "export_expired"
    assert rights.expire_exports() == 1
    db.session.commit()
    row = db.session.get(DataExport, asked.json["id"])
    assert row.status == ExportStatus.EXPIRED and row.content is None


def test_another_citizens_export_is_not_found(client, as_role):
    _owner, owner_headers = as_role(Role.CITIZEN)
    _other, other_headers = as_role(Role.CITIZEN)
    export = client.post("/api/v1/me/exports", headers=owner_headers).json
    response = client.get(f"/api/v1/me/exports/{export['id']}/download", headers=other_headers)
    assert response.status_code == 404


def test_dormancy_notice_then_restriction(ctx, clock, municipality, create_user):
    citizen = create_user(Role.CITIZEN)
    db.session.add(AuthSession(user_id=citizen.id, expires_at=clock.now + timedelta(days=30)))
    db.session.add(
        DormancyPolicy(
            municipality_id=municipality.id, inactive_months=12, action="restrict", notice_days=30
        )
    )
    db.session.commit()
    clock.advance(days=300)
    assert rights.apply_dormancy() == (0, 0)
    clock.advance(days=40)  # within 30 days of the 12 months
    assert rights.apply_dormancy() == (1, 0)
    assert rights.apply_dormancy() == (0, 0)  # once
    notices = db.session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == citizen.id)
    ).all()
    assert notices == ["account.dormancy_notice"]
    clock.advance(days=30)
    assert rights.apply_dormancy() == (0, 1)
    db.session.commit()
    assert db.session.get(User, citizen.id).is_active is False


def test_an_admin_deletion_erases_like_the_citizens_own(client, as_role, create_user):
    _admin, headers = as_role(Role.ADMIN)
    citizen = create_user(Role.CITIZEN, display_name="김철수", phone="01011112222")
    assert client.delete(f"/api/v1/users/{citizen.id}", headers=headers).status_code == 204
    db.session.expire_all()
    gone = db.session.get(User, citizen.id)
    assert (gone.display_name, gone.phone, gone.deleted_at is not None) == ("탈퇴회원", None, True)


def test_officials_set_their_municipalitys_dormancy_policy(
    client, as_role, municipality, other_municipality
):
    _official, headers = as_role(Role.OFFICIAL)
    url = f"/api/v1/municipalities/{municipality.id}/dormancy-policy"
    assert client.get(url, headers=headers).status_code == 204
    body = {"inactive_months": 12, "action": "restrict", "notice_days": 30}
    response = client.put(url, headers=headers, json=body)
    assert response.status_code == 200, response.json
    assert client.get(url, headers=headers).json["inactive_months"] == 12
    foreign = f"/api/v1/municipalities/{other_municipality.id}/dormancy-policy"
    assert client.put(foreign, headers=headers, json=body).status_code == 404
    _citizen, citizen_headers = as_role(Role.CITIZEN)
    assert client.put(url, headers=citizen_headers, json=body).status_code == 403


def test_correcting_contact_data_keeps_a_login_and_stays_unique(client, as_role, create_user):
    create_user(Role.CITIZEN, email="taken@example.test")
    citizen, headers = as_role(Role.CITIZEN)
    taken = client.patch(
        "/api/v1/me/profile", headers=headers, json={"email": "TAKEN@example.test"}
    )
    assert taken.status_code == 409 and taken.json["error"]["code"] == "account_exists"
    none_left = client.patch("/api/v1/me/profile", headers=headers, json={"email": None})
    assert none_left.status_code == 422 and none_left.json["error"]["code"] == "login_required"
    moved = client.patch(
        "/api/v1/me/profile", headers=headers, json={"phone": "010-2222-3333", "locale": "en"}
    )
    assert moved.status_code == 200
    assert (moved.json["phone"], moved.json["locale"]) == ("01022223333", "en")
    role = client.patch("/api/v1/me/profile", headers=headers, json={"role": "admin"})
    assert role.status_code == 422 and "role" in role.json["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(User, citizen.id).role == Role.CITIZEN
