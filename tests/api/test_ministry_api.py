"""HTTP for the ministry's side: writes by ministry staff, tenancy, the one error shape and
nothing written on bad input, actions answering with the changed resource, the CSV report."""

from __future__ import annotations

import csv
import io
from datetime import date

from backend.permissions import Role


def test_selected_case_follow_up_and_report_over_http(
    clock, client, as_role, create_project, municipality
):
    analyst, staff = as_role(Role.ANALYST)
    official, headers = as_role(Role.OFFICIAL, municipality)
    project = create_project(starts_on=date(2023, 3, 1), ends_on=date(2025, 12, 31))
    created = client.post(
        "/api/v1/selected-cases",
        json={"project_id": project.id, "contest_year": 2023, "award": "대상", "category": "안전"},
        headers=staff,
    )
    assert created.status_code == 201, created.json
    case_id = created.json["id"]
    refused = client.post(
        "/api/v1/selected-cases",
        json={"project_id": project.id, "contest_year": 2023, "award": "대상", "category": "안전"},
        headers=headers,
    )
    assert refused.status_code == 403
    follow_up = client.post(
        f"/api/v1/selected-cases/{case_id}/follow-ups", json={"year": 2025}, headers=headers
    )
    assert follow_up.status_code == 201, follow_up.json
    assert follow_up.json["still_running_source"] == "platform"
    funding = client.post(
        f"/api/v1/selected-cases/{case_id}/fundings",
        json={"year": 2025, "amount": 10_000_000, "purpose": "확산"},
        headers=staff,
    )
    assert funding.status_code == 201
    report = client.get("/api/v1/reports/follow-ups", headers=staff)
    assert report.status_code == 200
    assert report.json["last_year"] == 2025
    assert report.json["cases"][0]["funding_total"] == 10_000_000
    assert report.json["missing_last_year"] == []
    as_csv = client.get("/api/v1/reports/follow-ups?format=csv", headers=staff)
    assert as_csv.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["year"] == "2025" and rows[0]["funding_that_year"] == "10000000"


def test_dispute_over_http_and_bad_input_writes_nothing(
    clock,
    client,
    as_role,
    create_project,
    other_municipality,
    create_user,
    table_counts,
    create_member,
):
    analyst, staff = as_role(Role.ANALYST)
    official, headers = as_role(Role.OFFICIAL)
    partner = create_user(Role.CITIZEN)
    foreign = create_project(other_municipality)
    before = table_counts()
    response = client.post(
        "/api/v1/disputes",
        json={
            "project_id": foreign.id,
            "subject": "분쟁",
            "claims": "요구",
            "partner_user_ids": [partner.id],
        },
        headers=headers,
    )
    assert response.status_code == 404
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert table_counts() == before

    filed = client.post(
        "/api/v1/disputes",
        json={
            "project_id": create_project().id,
            "subject": "운영비 정산",
            "claims": "협약에 따른 정산",
            "partner_user_ids": [partner.id],
            "external_parties": [{"name": "마을협동조합", "kind": "company"}],
            "documents": [{"title": "협약서", "url": "https://example.test/a.pdf"}],
        },
        headers=headers,
    )
    assert filed.status_code == 201, filed.json
    dispute_id = filed.json["id"]
    assert filed.json["allowed_moves"] == ["accepted", "rejected", "withdrawn"]

    jump = client.post(f"/api/v1/disputes/{dispute_id}/settle", json={"terms": "x"}, headers=staff)
    assert jump.status_code == 409
    assert jump.json["error"]["code"] == "dispute_illegal_transition"
    assert "accepted" in jump.json["error"]["fields"]["state"][0]

    accepted = client.post(f"/api/v1/disputes/{dispute_id}/accept", json={}, headers=staff)
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    member = create_member(partner, qualification="practitioner", years=11)
    before = table_counts()
    party = client.post(
        f"/api/v1/disputes/{dispute_id}/mediators", json={"member_id": member.id}, headers=staff
    )
    assert party.status_code == 409
    assert party.json["error"]["code"] == "mediator_is_party"
    assert table_counts() == before

    outsider = create_user(Role.CITIZEN)
    from tests.fixtures.identity import auth_headers_for

    hidden = client.get(f"/api/v1/disputes/{dispute_id}", headers=auth_headers_for(outsider))
    assert hidden.status_code == 404
    seen = client.get(f"/api/v1/disputes/{dispute_id}", headers=auth_headers_for(partner))
    assert seen.status_code == 200


def test_full_course_is_a_409_and_writes_nothing(
    clock, client, as_role, create_course, table_counts
):
    _analyst, staff = as_role(Role.ANALYST)
    course = create_course(capacity=1)
    _first, first = as_role(Role.OFFICIAL)
    assert (
        client.post(f"/api/v1/courses/{course.id}/enrolments", json={}, headers=first).status_code
        == 201
    )
    _second, second = as_role(Role.CITIZEN)
    before = table_counts()
    full = client.post(f"/api/v1/courses/{course.id}/enrolments", json={}, headers=second)
    assert full.status_code == 409
    assert full.json["error"]["code"] == "course_full"
    assert table_counts() == before
    record = client.get("/api/v1/me/training-record", headers=first)
    assert record.status_code == 200
    assert record.json["items"][0]["course"]["id"] == course.id
    bad = client.post(
        "/api/v1/courses",
        json={
            "title": "기초",
            "level": "basic",
            "audience": "all",
            "host": "ministry",
            "place": "세종",
            "starts_on": "2026-09-01",
            "days": 1,
            "capacity": 10,
        },
        headers=staff,
    )
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "course_schedule_invalid"
