"""HTTP for notifications: devices, inbox, preferences, announcements and delivery statistics."""

from __future__ import annotations

import sqlalchemy as sa

from backend.extensions import db
from backend.notifications.models import Announcement, Device, Notification, OutboxMessage
from backend.permissions import Role
from tests.fixtures.identity import auth_headers_for

DEVICE = {"token": "fcm-token-1", "platform": "ios", "app_version": "2.0.1", "locale": "ko-KR"}


# ---- devices --------------------------------------------------------------------------------


def test_register_refresh_list_and_delete_a_device(client, as_role, municipality):
    user, headers = as_role(Role.CITIZEN)

    created = client.post("/api/v1/me/devices", json=DEVICE, headers=headers)
    refreshed = client.post(
        "/api/v1/me/devices", json={**DEVICE, "token": "fcm-token-2"}, headers=headers
    )
    listed = client.get("/api/v1/me/devices", headers=headers)

    assert created.status_code == 201, created.json
    assert created.json["topics"] == [f"municipality-{municipality.id}"]
    device = created.json["device"]
    assert (device["platform"], device["app_version"], device["locale"]) == (
        "ios",
        "2.0.1",
        "ko-KR",
    )
    assert "token" not in device
    assert refreshed.status_code == 200
    assert refreshed.json["device"]["id"] == device["id"]
    assert [item["id"] for item in listed.json["items"]] == [device["id"]]
    assert db.session.scalar(sa.select(Device.token)) == "fcm-token-2"
    deleted = client.delete(f"/api/v1/me/devices/{device['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get("/api/v1/me/devices", headers=headers).json["items"] == []


def test_someone_elses_device_is_not_found(client, as_role):
    _owner, owner_headers = as_role(Role.CITIZEN)
    _other, other_headers = as_role(Role.CITIZEN)
    device_id = client.post("/api/v1/me/devices", json=DEVICE, headers=owner_headers).json[
        "device"
    ]["id"]

    response = client.delete(f"/api/v1/me/devices/{device_id}", headers=other_headers)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "device_not_found"


def test_logout_removes_the_device_of_that_login(client, as_role, auth_headers, count_rows):
    user, headers = as_role(Role.CITIZEN)
    other_login = auth_headers(user)
    client.post("/api/v1/me/devices", json=DEVICE, headers=headers)
    client.post("/api/v1/me/devices", json={**DEVICE, "token": "tablet"}, headers=other_login)

    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204

    assert count_rows(Device) == 1
    assert db.session.scalar(sa.select(Device.token)) == "tablet"


def test_invalid_device_fields_are_refused(client, as_role):
    _user, headers = as_role(Role.CITIZEN)

    response = client.post(
        "/api/v1/me/devices",
        json={**DEVICE, "token": "bad\x00token", "platform": "windows", "locale": "???"},
        headers=headers,
    )

    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"token", "platform", "locale"}


# ---- inbox ----------------------------------------------------------------------------------


def test_inbox_in_the_callers_language_with_unread_count_and_reading(
    client, as_role, notify, clock
):
    user, headers = as_role(Role.CITIZEN)
    notify(user, hours=2.0)
    notify(user, hours=4.0)

    korean = client.get("/api/v1/me/notifications?limit=1", headers=headers)
    english = client.get(
        "/api/v1/me/notifications", headers={**headers, "Accept-Language": "en-US,en;q=0.9"}
    )
    count = client.get("/api/v1/me/notifications/unread-count", headers=headers)

    assert korean.status_code == 200
    item = korean.json["items"][0]
    assert (item["title"], item["body"]) == (
        "참여가 확인되었습니다",
        "활동 참여 4시간이 인정되었습니다.",
    )
    assert item["category"] == "participation" and item["read_at"] is None
    assert item["link"].startswith("coproduction://participations/")
    assert korean.json["next_cursor"] == item["id"]
    assert [i["body"] for i in english.json["items"]] == [
        "4 hours of your activity were recognised.",
        "2 hours of your activity were recognised.",
    ]
    assert count.json == {"unread_count": 2}

    read = client.post(f"/api/v1/me/notifications/{item['id']}/read", headers=headers)
    assert read.status_code == 200
    assert read.json["read_at"] == "2026-03-02T10:00:00+09:00"
    unread = client.get("/api/v1/me/notifications?unread_only=true", headers=headers)
    assert len(unread.json["items"]) == 1
    read_all = client.post("/api/v1/me/notifications/read-all", headers=headers)
    assert read_all.json == {"marked": 1, "unread_count": 0}


def test_reading_someone_elses_notification_is_not_found(client, as_role, notify):
    owner, _ = as_role(Role.CITIZEN)
    _other, headers = as_role(Role.CITIZEN)
    notify(owner)
    notification_id = db.session.scalar(sa.select(Notification.id))

    response = client.post(f"/api/v1/me/notifications/{notification_id}/read", headers=headers)

    assert response.status_code == 404
    assert response.json["error"] == {
        "code": "notification_not_found",
        "message": "알림을 찾을 수 없습니다.",
        "fields": {},
    }


# ---- preferences ----------------------------------------------------------------------------


def test_preferences_read_replace_and_patch(client, as_role, municipality):
    _user, headers = as_role(Role.CITIZEN)
    defaults = client.get("/api/v1/me/notification-preferences", headers=headers)
    assert defaults.json == {
        "participation": True,
        "rewards": True,
        "certificates": True,
        "committees": True,
        "meetings": True,
        "announcements": True,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "timezone": "Asia/Seoul",
        "topics": [f"municipality-{municipality.id}"],
    }

    replaced = client.put(
        "/api/v1/me/notification-preferences",
        json={
            **{k: v for k, v in defaults.json.items() if k not in ("timezone", "topics")},
            "rewards": False,
            "quiet_hours_start": "22:30",
            "quiet_hours_end": "07:00",
        },
        headers=headers,
    )
    patched = client.patch(
        "/api/v1/me/notification-preferences", json={"announcements": False}, headers=headers
    )

    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["quiet_hours_start"], replaced.json["quiet_hours_end"]) == (
        "22:30",
        "07:00",
    )
    assert replaced.json["rewards"] is False
    assert patched.json["announcements"] is False and patched.json["topics"] == []
    assert patched.json["quiet_hours_start"] == "22:30"


def test_half_quiet_hours_and_bad_times_are_refused(client, as_role):
    _user, headers = as_role(Role.CITIZEN)

    half = client.patch(
        "/api/v1/me/notification-preferences", json={"quiet_hours_start": "22:00"}, headers=headers
    )
    bad = client.patch(
        "/api/v1/me/notification-preferences",
        json={"quiet_hours_start": "25:00", "quiet_hours_end": "7"},
        headers=headers,
    )
    incomplete_put = client.put(
        "/api/v1/me/notification-preferences", json={"rewards": False}, headers=headers
    )

    assert (half.status_code, half.json["error"]["code"]) == (422, "quiet_hours_invalid")
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"quiet_hours_start", "quiet_hours_end"}
    assert incomplete_put.status_code == 422


# ---- announcements --------------------------------------------------------------------------


def test_official_announces_to_the_municipality(client, as_role, create_user, clock):
    official, headers = as_role(Role.OFFICIAL)
    citizen = create_user()
    headers = {**headers, "Idempotency-Key": "announce-1"}
    body = {"title": "주민 설명회", "body": "3월 5일 오후 2시, 구청 대강당"}

    created = client.post("/api/v1/announcements", json=body, headers=headers)
    replayed = client.post("/api/v1/announcements", json=body, headers=headers)

    assert created.status_code == 201, created.json
    assert created.json["audience"] == "municipality"
    assert created.json["recipient_count"] == 1
    assert created.json["author_id"] == official.id
    assert replayed.headers["Idempotency-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 1
    inbox = db.session.scalars(sa.select(Notification.user_id)).all()
    assert inbox == [citizen.id]
    assert db.session.scalar(sa.select(OutboxMessage.topic)).startswith("municipality-")


def test_official_announces_to_a_projects_participants(
    client, as_role, create_user, create_project, create_activity, other_municipality, clock
):
    _official, headers = as_role(Role.OFFICIAL)
    taking_part = create_user()
    create_user()  # a bystander of the same municipality
    project = create_project()
    activity = create_activity(project)
    joined = client.post(
        f"/api/v1/activities/{activity.id}/participations",
        json={},
        headers=auth_headers_for(taking_part),
    )
    assert joined.status_code == 201, joined.json

    created = client.post(
        "/api/v1/announcements",
        json={"title": "우천 시 장소 변경", "body": "구청 대강당", "project_id": project.id},
        headers=headers,
    )
    assert created.status_code == 201, created.json
    assert (created.json["audience"], created.json["recipient_count"]) == ("project", 1)
    assert db.session.scalars(sa.select(Notification.user_id)).all() == [taking_part.id]

    theirs = create_project(other_municipality)
    refused = client.post(
        "/api/v1/announcements",
        json={"title": "t", "body": "b", "project_id": theirs.id},
        headers=headers,
    )
    assert refused.status_code == 404
    assert refused.json["error"]["code"] == "project_not_found"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Announcement)) == 1


def test_announcement_input_rules(client, as_role):
    _official, headers = as_role(Role.OFFICIAL)

    response = client.post(
        "/api/v1/announcements", json={"title": "", "body": "a\x07b"}, headers=headers
    )
    half_english = client.post(
        "/api/v1/announcements",
        json={"title": "공지", "body": "본문", "title_en": "Only a title"},
        headers=headers,
    )

    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"title", "body"}
    assert half_english.status_code == 422
    assert set(half_english.json["error"]["fields"]) == {"title_en"}


def test_officials_list_their_municipalitys_announcements_admins_all(
    client, as_role, other_municipality
):
    _here, here_headers = as_role(Role.OFFICIAL)
    _there, there_headers = as_role(Role.OFFICIAL, municipality=other_municipality)
    _admin, admin_headers = as_role(Role.ADMIN)
    client.post("/api/v1/announcements", json={"title": "a", "body": "b"}, headers=here_headers)
    client.post("/api/v1/announcements", json={"title": "c", "body": "d"}, headers=there_headers)

    here = client.get("/api/v1/announcements", headers=here_headers)
    everything = client.get("/api/v1/announcements", headers=admin_headers)

    assert [item["title"] for item in here.json["items"]] == ["a"]
    assert [item["title"] for item in everything.json["items"]] == ["c", "a"]


# ---- statistics -----------------------------------------------------------------------------


def test_admin_reads_delivery_statistics(client, as_role, create_device, notify, deliver, clock):
    user, _ = as_role(Role.CITIZEN)
    create_device(user)
    notify(user)
    deliver()
    _admin, headers = as_role(Role.ADMIN)

    response = client.get("/api/v1/admin/notifications/stats?days=3", headers=headers)

    assert response.status_code == 200
    body = response.json
    assert (body["queued"], body["devices"], body["totals"]["sent"]) == (0, 1, 1)
    assert [day["date"] for day in body["days"]] == ["2026-03-02", "2026-03-01", "2026-02-28"]
    assert body["days"][0]["sent"] == 1
    assert isinstance(body["push_configured"], bool)
