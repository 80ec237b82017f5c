"""Participation over HTTP: the whole citizen and official journey, tenancy, and bad input that
must answer a 4xx in the one error shape and write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.clock import SEOUL
from backend.participation.models import Participation
from backend.permissions import Role

API = "/api/v1"


def _iso(moment) -> str:
    return moment.astimezone(SEOUL).isoformat()


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert response.json["error"]["code"] == code
    return response.json["error"]


@pytest.fixture
def staff(as_role):
    return as_role(Role.OFFICIAL)


def _new_project(client, headers, **change):
    body = {
        "title": "안심 귀갓길 만들기",
        "field": "safety",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "status": "active",
        **change,
    }
    return client.post(f"{API}/projects", json=body, headers=headers)


def _new_activity(client, headers, project_id, start, **change):
    body = {
        "stage": "plan",
        "kind": "workshop",
        "title": "주민 워크숍",
        "place": "구청 대회의실",
        "starts_at": _iso(start),
        "ends_at": _iso(start + timedelta(hours=2)),
        **change,
    }
    return client.post(f"{API}/projects/{project_id}/activities", json=body, headers=headers)


def test_the_whole_journey(client, staff, as_role, clock):
    _official, official_headers = staff
    citizen, citizen_headers = as_role(Role.CITIZEN)
    _, late_headers = as_role(Role.CITIZEN)

    created = _new_project(client, official_headers)
    assert created.status_code == 201
    project = created.json
    assert [s["stage"] for s in project["stages"]] == ["plan", "decide", "implement", "evaluate"]
    assert {s["mode"] for s in project["stages"]} == {"unclear"}

    activity = _new_activity(
        client, official_headers, project["id"], clock.now + timedelta(minutes=20), capacity=1
    ).json
    assert activity["open_seats"] == 1 and activity["project"]["id"] == project["id"]

    assert (
        client.get(f"{API}/projects", headers=citizen_headers).json["items"][0]["id"]
        == (project["id"])
    )
    joined = client.post(
        f"{API}/activities/{activity['id']}/participations", json={}, headers=citizen_headers
    )
    assert joined.status_code == 201 and joined.json["status"] == "registered"
    full = client.post(
        f"{API}/activities/{activity['id']}/participations", json={}, headers=late_headers
    )
    _error(full, 409, "activity_full")

    code = client.get(
        f"{API}/activities/{activity['id']}/check-in-code", headers=official_headers
    ).json
    assert code["qr_payload"].endswith(code["code"])
    checked = client.post(
        f"{API}/activities/{activity['id']}/check-in",
        json={"code": code["code"]},
        headers=citizen_headers,
    )
    assert checked.status_code == 200 and checked.json["status"] == "attended"

    clock.advance(minutes=30)  # the activity has started
    confirmed = client.post(
        f"{API}/participations/{joined.json['id']}/confirm",
        json={"hours": 2},
        headers=official_headers,
    )
    assert confirmed.status_code == 200
    assert (confirmed.json["status"], confirmed.json["hours"]) == ("confirmed", 2.0)
    again = client.post(
        f"{API}/participations/{joined.json['id']}/confirm",
        json={"hours": 5},
        headers=official_headers,
    )
    assert again.status_code == 200 and again.json["hours"] == 2.0

    stage = client.get(f"{API}/projects/{project['id']}/stages/plan", headers=citizen_headers)
    assert (stage.json["mode"], stage.json["confirmed_count"]) == ("citizen", 1)

    history = client.get(f"{API}/me/participations", headers=citizen_headers).json
    assert history["next_cursor"] is None
    (entry,) = history["items"]
    assert (entry["stage"], entry["status"], entry["hours"]) == ("plan", "confirmed", 2.0)
    assert entry["activity"]["title"] == "주민 워크숍"
    assert entry["project"]["title"] == "안심 귀갓길 만들기"
    summary = client.get(f"{API}/me/participations/summary", headers=citizen_headers).json
    assert (summary["total"], summary["confirmed"], summary["hours"]) == (1, 1, 2.0)
    assert summary["stages"][0] == {
        "stage": "plan",
        "total": 1,
        "confirmed": 1,
        "hours": 2.0,
        "by_status": {
            "registered": 0,
            "attended": 0,
            "confirmed": 1,
            "cancelled": 0,
            "rejected": 0,
            "no_show": 0,
        },
    }
    assert citizen.id == entry["user_id"]


def test_official_records_and_bulk_confirms(client, staff, as_role, clock):
    _official, headers = staff
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now - timedelta(hours=3)).json
    people = [as_role(Role.CITIZEN)[0] for _ in range(2)]
    for person in people:
        recorded = client.post(
            f"{API}/activities/{activity['id']}/participations",
            json={"user_id": person.id, "attended": True},
            headers=headers,
        )
        assert recorded.status_code == 201 and recorded.json["status"] == "attended"
    done = client.post(
        f"{API}/activities/{activity['id']}/participations/confirm",
        json={"hours": 1.5},
        headers=headers,
    )
    assert done.status_code == 200
    assert {(p["status"], p["hours"]) for p in done.json["items"]} == {("confirmed", 1.5)}
    listed = client.get(
        f"{API}/activities/{activity['id']}/participations?status=confirmed", headers=headers
    ).json
    assert {p["user"]["id"] for p in listed["items"]} == {p.id for p in people}
    profile = client.get(f"{API}/reports/projects/{project['id']}/profile", headers=headers)
    plan = profile.json["stages"][0]
    assert (plan["confirmed_citizens"], plan["hours"], plan["mode"]) == (2, 3.0, "citizen")


def test_illegal_move_is_409_naming_the_allowed_moves(client, staff, as_role, clock, table_counts):
    _official, headers = staff
    citizen, citizen_headers = as_role(Role.CITIZEN)
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now - timedelta(hours=1)).json
    participation = client.post(
        f"{API}/activities/{activity['id']}/participations",
        json={"user_id": citizen.id, "attended": True},
        headers=headers,
    ).json
    before = table_counts()
    cancel = client.post(
        f"{API}/participations/{participation['id']}/cancel", json={}, headers=citizen_headers
    )
    error = _error(cancel, 409, "illegal_transition")
    assert error["fields"] == {"status": ["Allowed moves from attended: confirmed, rejected."]}
    assert table_counts() == before


def test_another_municipality_sees_nothing_and_writes_nothing(
    client, staff, as_role, other_municipality, clock, table_counts
):
    _official, headers = staff
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now + timedelta(days=1)).json
    _stranger, stranger_headers = as_role(Role.CITIZEN, municipality=other_municipality)
    _other_official, other_headers = as_role(Role.OFFICIAL, municipality=other_municipality)
    before = table_counts()
    _error(
        client.get(f"{API}/projects/{project['id']}", headers=stranger_headers),
        404,
        "project_not_found",
    )
    _error(
        client.get(f"{API}/activities/{activity['id']}", headers=stranger_headers),
        404,
        "activity_not_found",
    )
    _error(
        client.post(
            f"{API}/activities/{activity['id']}/participations", json={}, headers=stranger_headers
        ),
        404,
        "activity_not_found",
    )
    _error(
        client.patch(f"{API}/projects/{project['id']}", json={"title": "x"}, headers=other_headers),
        404,
        "project_not_found",
    )
    assert client.get(f"{API}/activities", headers=stranger_headers).json["items"] == []
    assert table_counts() == before


def test_citizens_do_not_see_drafts(client, staff, as_role):
    _official, headers = staff
    _citizen, citizen_headers = as_role(Role.CITIZEN)
    draft = _new_project(client, headers, status="draft").json
    private = _new_project(client, headers, visibility="private").json
    assert client.get(f"{API}/projects", headers=citizen_headers).json["items"] == []
    for hidden in (draft, private):
        _error(
            client.get(f"{API}/projects/{hidden['id']}", headers=citizen_headers),
            404,
            "project_not_found",
        )
    assert len(client.get(f"{API}/projects", headers=headers).json["items"]) == 2


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"starts_on": "2026-05-01", "ends_on": "2026-04-01"}, 422, "validation_failed"),
        ({"field": "astrology"}, 422, "validation_failed"),
        ({"title": ""}, 422, "validation_failed"),
    ],
)
def test_bad_projects_write_nothing(client, staff, table_counts, change, status, code):
    before = table_counts()
    error = _error(_new_project(client, staff[1], **change), status, code)
    assert error["fields"]
    assert table_counts() == before


def test_activity_outside_its_stage_writes_nothing(client, staff, clock, table_counts):
    _official, headers = staff
    project = _new_project(client, headers).json
    stage = client.patch(
        f"{API}/projects/{project['id']}/stages/plan",
        json={"starts_on": "2026-03-01", "ends_on": "2026-03-31"},
        headers=headers,
    )
    assert stage.status_code == 200 and stage.json["ends_on"] == "2026-03-31"
    before = table_counts()
    late = _new_activity(client, headers, project["id"], clock.now + timedelta(days=60))
    _error(late, 422, "activity_outside_stage")
    backwards = _new_activity(
        client, headers, project["id"], clock.now + timedelta(days=2), ends_at=_iso(clock.now)
    )
    _error(backwards, 422, "validation_failed")
    bad_stage = client.patch(
        f"{API}/projects/{project['id']}/stages/plan",
        json={"starts_on": "2025-12-01"},
        headers=headers,
    )
    _error(bad_stage, 422, "stage_outside_project")
    _error(
        client.get(f"{API}/projects/{project['id']}/stages/dream", headers=headers),
        404,
        "stage_not_found",
    )
    assert table_counts() == before


def test_wrong_or_expired_check_in_code_writes_nothing(client, staff, as_role, clock, table_counts):
    _official, headers = staff
    _citizen, citizen_headers = as_role(Role.CITIZEN)
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now + timedelta(minutes=10)).json
    client.post(
        f"{API}/activities/{activity['id']}/participations", json={}, headers=citizen_headers
    )
    code = client.get(f"{API}/activities/{activity['id']}/check-in-code", headers=headers).json
    wrong = f"{(int(code['code']) + 1) % 1_000_000:06d}"
    before = table_counts()
    url = f"{API}/activities/{activity['id']}/check-in"
    error = _error(
        client.post(url, json={"code": wrong}, headers=citizen_headers),
        422,
        "check_in_code_invalid",
    )
    assert "code" in error["fields"]
    clock.advance(minutes=5)
    _error(
        client.post(url, json={"code": code["code"]}, headers=citizen_headers),
        422,
        "check_in_code_invalid",
    )
    _error(
        client.post(url, json={"code": "12ab"}, headers=citizen_headers), 422, "validation_failed"
    )
    assert table_counts() == before
    assert Participation.query.one().status.value == "registered"


def test_a_second_survey_answer_writes_nothing(client, staff, as_role, clock, table_counts):
    _official, headers = staff
    citizen, citizen_headers = as_role(Role.CITIZEN)
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now - timedelta(hours=3)).json
    client.post(
        f"{API}/activities/{activity['id']}/participations",
        json={"user_id": citizen.id, "attended": True},
        headers=headers,
    )
    survey = client.post(
        f"{API}/projects/{project['id']}/surveys",
        json={"title": "사업 만족도 조사"},
        headers=headers,
    )
    assert survey.status_code == 201
    url = f"{API}/surveys/{survey.json['id']}/responses"
    first = client.post(url, json={"rating": 4, "comment": "유익했어요"}, headers=citizen_headers)
    assert first.status_code == 201 and first.json["rating"] == 4
    before = table_counts()
    _error(
        client.post(url, json={"rating": 1}, headers=citizen_headers),
        409,
        "survey_already_answered",
    )
    _error(client.post(url, json={"rating": 6}, headers=citizen_headers), 422, "validation_failed")
    assert table_counts() == before
    results = client.get(f"{API}/surveys/{survey.json['id']}", headers=citizen_headers).json
    assert (results["response_count"], results["mean_rating"]) == (1, 4.0)
    assert results["distribution"]["4"] == 1
    comments = client.get(url, headers=headers).json["items"]
    assert comments[0]["comment"] == "유익했어요"


def test_joining_with_an_idempotency_key_replays(client, staff, as_role, clock, count_rows):
    _official, headers = staff
    _citizen, citizen_headers = as_role(Role.CITIZEN)
    project = _new_project(client, headers).json
    activity = _new_activity(client, headers, project["id"], clock.now + timedelta(days=1)).json
    url = f"{API}/activities/{activity['id']}/participations"
    keyed = {**citizen_headers, "Idempotency-Key": "join-1"}
    first = client.post(url, json={}, headers=keyed)
    second = client.post(url, json={}, headers=keyed)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotency-Replayed"] == "true"
    assert second.json == first.json
    assert count_rows(Participation) == 1


def test_mode_override_over_http(client, staff):
    _official, headers = staff
    project = _new_project(client, headers).json
    url = f"{API}/projects/{project['id']}/stages/decide/mode-override"
    _error(client.post(url, json={"mode": "joint"}, headers=headers), 422, "validation_failed")
    done = client.post(url, json={"mode": "joint", "reason": "회의록 확인"}, headers=headers)
    assert done.status_code == 200
    assert (done.json["mode"], done.json["derived_mode"], done.json["mode_overridden"]) == (
        "joint",
        "unclear",
        True,
    )
    work = client.post(
        f"{API}/projects/{project['id']}/government-work",
        json={"stage": "plan", "title": "예산 편성"},
        headers=headers,
    )
    assert work.status_code == 201
    listed = client.get(f"{API}/projects/{project['id']}/government-work", headers=headers).json
    assert [w["title"] for w in listed["items"]] == ["예산 편성"]
    plan = client.get(f"{API}/projects/{project['id']}/stages/plan", headers=headers).json
    assert plan["mode"] == "government"


def test_indicator_records_over_http(client, staff, table_counts):
    _official, headers = staff
    before = table_counts()
    _error(
        client.post(
            f"{API}/indicator-records",
            json={"kind": "promotion", "title": "보도자료", "occurred_on": "2026-02-01"},
            headers=headers,
        ),
        422,
        "channel_required",
    )
    assert table_counts() == before
    made = client.post(
        f"{API}/indicator-records",
        json={
            "kind": "promotion",
            "title": "보도자료",
            "occurred_on": "2026-02-01",
            "channel": "press",
        },
        headers=headers,
    )
    assert made.status_code == 201 and made.json["channel"] == "press"
    assert (
        client.get(f"{API}/indicator-records", headers=headers).json["items"][0]["id"]
        == (made.json["id"])
    )
