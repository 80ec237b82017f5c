"""Staff accounts, tenancy of user lists, the audit log, pagination and health probes."""

from __future__ import annotations

import pytest

from backend.audit.models import AuditEntry
from backend.identity.models import User
from backend.permissions import Role


def test_admin_creates_staff_and_it_is_audited(client, as_role, municipality, count_rows):
    admin, headers = as_role(Role.ADMIN)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "new.official@example.test",
            "password": "a-long-password",
            "display_name": "신규 공무원",
            "role": "official",
            "municipality_id": municipality.id,
        },
    )
    assert response.status_code == 201
    assert response.json["role"] == "official"
    log = client.get("/api/v1/audit-log?action=user.create", headers=headers).json["items"]
    assert [(e["actor_id"], e["target_id"]) for e in log] == [(admin.id, response.json["id"])]


def test_municipal_role_needs_a_municipality(client, as_role, count_rows):
    _admin, headers = as_role(Role.ADMIN)
    before = count_rows(User)
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "x@example.test",
            "password": "a-long-password",
            "display_name": "x",
            "role": "verifier",
        },
    )
    assert response.status_code == 422
    assert "municipality_id" in response.json["error"]["fields"]
    assert count_rows(User) == before


def test_official_sees_only_own_municipality(client, as_role, create_user, other_municipality):
    official, headers = as_role(Role.OFFICIAL)
    own = create_user(Role.CITIZEN)
    foreign = create_user(Role.CITIZEN, municipality=other_municipality)
    listed = {u["id"] for u in client.get("/api/v1/users?limit=100", headers=headers).json["items"]}
    assert own.id in listed and official.id in listed
    assert foreign.id not in listed
    response = client.get(f"/api/v1/users/{foreign.id}", headers=headers)
    assert response.status_code == 404
    assert client.get(f"/api/v1/users/{own.id}", headers=headers).status_code == 200


def test_analyst_reads_across_municipalities_but_cannot_write(
    client, as_role, create_user, other_municipality
):
    _analyst, headers = as_role(Role.ANALYST)
    foreign = create_user(Role.CITIZEN, municipality=other_municipality)
    assert client.get(f"/api/v1/users/{foreign.id}", headers=headers).status_code == 200
    assert (
        client.patch(
            f"/api/v1/users/{foreign.id}", headers=headers, json={"is_active": False}
        ).status_code
        == 403
    )


def test_admin_cannot_demote_itself(client, as_role):
    admin, headers = as_role(Role.ADMIN)
    response = client.patch(f"/api/v1/users/{admin.id}", headers=headers, json={"role": "citizen"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "self_demotion"


def test_pagination_is_stable_complete_and_bounded(client, as_role, create_user):
    _admin, headers = as_role(Role.ADMIN)
    created = {create_user().id for _ in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).json
        seen += [u["id"] for u in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert created <= set(seen)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first
    too_big = client.get("/api/v1/users?limit=101", headers=headers)
    assert too_big.status_code == 422 and "limit" in too_big.json["error"]["fields"]
    bad_cursor = client.get("/api/v1/users?cursor=nonsense", headers=headers)
    assert bad_cursor.status_code == 422


def test_times_carry_the_seoul_offset(client, as_role):
    _user, headers = as_role(Role.CITIZEN)
    assert client.get("/api/v1/me", headers=headers).json["created_at"].endswith("+09:00")


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok"}


@pytest.mark.real_commits  # a second app
def test_readiness_fails_when_the_database_is_unreachable(app, tmp_path):
    from backend import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "database_unreachable"


def test_audit_entries_are_only_ever_added(client, as_role, count_rows, municipality):
    _admin, headers = as_role(Role.ADMIN)
    before = count_rows(AuditEntry)
    client.post(
        "/api/v1/municipalities",
        headers=headers,
        json={"code": "26110", "name": "중구", "region": "부산광역시"},
    )
    assert count_rows(AuditEntry) == before + 1
