"""HTTP: committees, appointments, dismissals, the member's view and the appointment letter."""

from __future__ import annotations

import pytest

from backend.permissions import Role
from backend.privacy.masking import mask_name

TERM_START = "2026-03-02"


@pytest.fixture
def official(as_role):
    return as_role(Role.OFFICIAL)


def _create_committee(client, headers, **body):
    body = {"name": "공원 조성 시민위원회", "seats": 2, "term_months": 24, **body}
    return client.post("/api/v1/committees", json=body, headers=headers)


def _appoint(client, headers, committee_id, user_id, **body):
    body = {"user_id": user_id, "role": "member", "term_start": TERM_START, **body}
    return client.post(
        f"/api/v1/committees/{committee_id}/appointments", json=body, headers=headers
    )


def test_official_sets_up_a_committee_and_appoints(client, clock, official, create_user):
    _, headers = official
    created = _create_committee(client, headers, purpose="공원 계획", requires_certificate=False)
    assert created.status_code == 201, created.json
    committee = created.json
    assert committee["municipality_id"] and committee["seats"] == 2
    citizen = create_user(Role.CITIZEN)
    appointed = _appoint(client, headers, committee["id"], citizen.id, role="chair")
    assert appointed.status_code == 201, appointed.json
    body = appointed.json
    assert body["member"] == {"id": citizen.id, "display_name": mask_name(citizen.display_name)}
    assert (body["role"], body["status"]) == ("chair", "active")
    assert (body["term_start"], body["term_end"], body["last_day"]) == (
        "2026-03-02",
        "2028-03-01",
        "2028-03-01",
    )
    got = client.get(f"/api/v1/committees/{committee['id']}", headers=headers)
    assert got.status_code == 200 and got.json == committee


def test_a_committee_serves_a_project_of_its_own_municipality_only(
    client, clock, official, create_project, other_municipality, table_counts
):
    _, headers = official
    ours = create_project()
    created = _create_committee(client, headers, project_id=ours.id)
    assert created.status_code == 201, created.json
    assert created.json["project_id"] == ours.id

    theirs = create_project(other_municipality)
    before = table_counts()
    for project_id in (theirs.id, "01JD8X7Q2M4N5P6R7S8T9V0W1X"):
        refused = _create_committee(client, headers, project_id=project_id)
        assert refused.status_code == 404, refused.json
        assert refused.json["error"]["code"] == "project_not_found"
    assert table_counts() == before


def test_bad_committee_input_is_422(client, official):
    _, headers = official
    for body in ({"seats": 0}, {"term_months": 0}, {"name": "   "}, {"name": "a\x00b"}):
        response = _create_committee(client, headers, **body)
        assert response.status_code == 422, body
        assert set(response.json["error"]) == {"code", "message", "fields"}


def test_over_filling_is_409_in_the_one_shape_and_writes_nothing(
    client, clock, official, create_user, table_counts
):
    _, headers = official
    committee = _create_committee(client, headers, seats=1).json
    assert _appoint(client, headers, committee["id"], create_user().id).status_code == 201
    late, later = create_user(), create_user()
    before = table_counts()
    refused = _appoint(client, {**headers, "Accept-Language": "en"}, committee["id"], late.id)
    assert refused.status_code == 409
    assert refused.json == {
        "error": {
            "code": "committee_full",
            "message": "Every seat of the committee is taken.",
            "fields": {},
        }
    }
    korean = _appoint(client, headers, committee["id"], later.id)
    assert korean.json["error"]["message"] == "위원회 정원이 모두 찼습니다."
    assert table_counts() == before


def test_other_municipality_is_invisible(
    client, clock, official, as_role, create_user, other_municipality, table_counts
):
    _, headers = official
    committee = _create_committee(client, headers).json
    _, foreign_headers = as_role(Role.OFFICIAL, municipality=other_municipality)
    local = create_user()
    assert (
        client.get(f"/api/v1/committees/{committee['id']}", headers=foreign_headers).json["error"][
            "code"
        ]
        == "committee_not_found"
    )
    listed = client.get("/api/v1/committees", headers=foreign_headers).json["items"]
    assert committee["id"] not in {c["id"] for c in listed}
    before = table_counts()
    response = _appoint(client, foreign_headers, committee["id"], local.id)
    assert response.status_code == 404
    assert table_counts() == before
    # A citizen of another municipality cannot be appointed here either.
    foreigner = create_user(Role.CITIZEN, municipality=other_municipality)
    response = _appoint(client, headers, committee["id"], foreigner.id)
    assert (response.status_code, response.json["error"]["code"]) == (404, "user_not_found")


def test_citizens_read_committees_but_do_not_manage_them(client, official, as_role):
    _, headers = official
    committee = _create_committee(client, headers).json
    _, citizen_headers = as_role(Role.CITIZEN)
    listed = client.get("/api/v1/committees", headers=citizen_headers)
    assert [c["id"] for c in listed.json["items"]] == [committee["id"]]
    assert _create_committee(client, citizen_headers).status_code == 403
    history = client.get(
        f"/api/v1/committees/{committee['id']}/appointments", headers=citizen_headers
    )
    assert history.status_code == 403


def test_dismissal_history_and_the_members_view(client, clock, official, create_user, as_role):
    official_user, headers = official
    committee = _create_committee(client, headers).json
    citizen = create_user(Role.CITIZEN)
    appointment = _appoint(client, headers, committee["id"], citizen.id).json
    dismissed = client.post(
        f"/api/v1/appointments/{appointment['id']}/dismiss",
        json={"reason": "장기 불참"},
        headers=headers,
    )
    assert dismissed.status_code == 200
    body = dismissed.json
    assert body["status"] == "dismissed" and body["dismissal_reason"] == "장기 불참"
    assert body["dismissed_by"]["id"] == official_user.id
    assert body["last_day"] == "2026-03-01"
    again = client.post(
        f"/api/v1/appointments/{appointment['id']}/dismiss", json={"reason": "x"}, headers=headers
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "appointment_dismissed")
    reappointed = _appoint(client, headers, committee["id"], citizen.id).json
    history = client.get(f"/api/v1/committees/{committee['id']}/appointments", headers=headers)
    assert [a["id"] for a in history.json["items"]] == [reappointed["id"], appointment["id"]]
    active = client.get(
        f"/api/v1/committees/{committee['id']}/appointments?status=active", headers=headers
    )
    assert [a["id"] for a in active.json["items"]] == [reappointed["id"]]

    from tests.fixtures.identity import auth_headers_for

    mine = client.get("/api/v1/me/appointments", headers=auth_headers_for(citizen)).json["items"]
    assert [(a["committee"]["name"], a["status"]) for a in mine] == [
        (committee["name"], "active"),
        (committee["name"], "dismissed"),
    ]
    _, admin = as_role(Role.ADMIN)
    log = client.get("/api/v1/audit-log?target_type=appointment", headers=admin).json["items"]
    assert [e["action"] for e in log] == [
        "appointment.create",
        "appointment.dismiss",
        "appointment.create",
    ]


def test_appointment_letter_is_printable_html_for_the_member_and_officials(
    client, clock, official, create_user, as_role
):
    from tests.fixtures.identity import auth_headers_for

    _, headers = official
    committee = _create_committee(client, headers, name="A&B <위원회>").json
    citizen = create_user(Role.CITIZEN, display_name="<b>홍길동</b>")
    appointment = _appoint(client, headers, committee["id"], citizen.id, role="vice_chair").json
    url = f"/api/v1/appointments/{appointment['id']}/letter"
    response = client.get(url, headers=auth_headers_for(citizen))
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "위촉장" in html and "부위원장" in html and "2026년 3월 2일" in html
    assert "&lt;b&gt;홍길동&lt;/b&gt;" in html and "<b>홍길동" not in html
    assert "A&amp;B &lt;위원회&gt;" in html
    assert client.get(url, headers=headers).status_code == 200
    _, stranger = as_role(Role.CITIZEN)
    assert client.get(url, headers=stranger).status_code == 404
    client.post(
        f"/api/v1/appointments/{appointment['id']}/dismiss", json={"reason": "x"}, headers=headers
    )
    refused = client.get(url, headers=auth_headers_for(citizen))
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "appointment_dismissed")


def test_a_citizen_sees_only_their_own_appointments(client, clock, official, create_user):
    from tests.fixtures.identity import auth_headers_for

    _, headers = official
    committee = _create_committee(client, headers).json
    mine, theirs = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    appointment = _appoint(client, headers, committee["id"], theirs.id).json
    response = client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=auth_headers_for(mine)
    )
    assert (response.status_code, response.json["error"]["code"]) == (
        404,
        "appointment_not_found",
    )
    assert client.get("/api/v1/me/appointments", headers=auth_headers_for(mine)).json == {
        "items": [],
        "next_cursor": None,
    }


def test_required_certificate_over_http(client, clock, official, create_user, certificates):
    _, headers = official
    committee = _create_committee(client, headers, requires_certificate=True).json
    citizen = create_user(Role.CITIZEN)
    refused = _appoint(client, headers, committee["id"], citizen.id)
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "certificate_required")
    certificates.grant(citizen)
    assert _appoint(client, headers, committee["id"], citizen.id).status_code == 201
