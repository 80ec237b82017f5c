"""Correcting a selected case (award, category, note) over HTTP: ministry staff only, audited."""

from __future__ import annotations

import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.extensions import db
from backend.ministry.models import SelectedCase
from backend.permissions import Role


def _audits(case_id: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == "selected_case.update", AuditEntry.target_id == case_id
            )
        )
    )


def test_ministry_staff_correct_a_case_over_http(
    client, as_role, create_selected_case, municipality
):
    case = create_selected_case(award="우수상")
    _analyst, staff = as_role(Role.ANALYST)
    changed = client.patch(
        f"/api/v1/selected-cases/{case.id}",
        json={"award": " 최우수상 ", "note": "수상 등급 정정"},
        headers=staff,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["award"] == "최우수상" and changed.json["category"] == "안전"
    assert changed.json["note"] == "수상 등급 정정"
    (entry,) = _audits(case.id)
    assert entry.details == {"award": "최우수상", "note": "수상 등급 정정"}
    same = client.patch(
        f"/api/v1/selected-cases/{case.id}", json={"award": "최우수상"}, headers=staff
    )
    assert same.status_code == 200 and len(_audits(case.id)) == 1  # nothing changed: no entry

    blank = client.patch(f"/api/v1/selected-cases/{case.id}", json={"award": ""}, headers=staff)
    assert blank.status_code == 422 and "award" in blank.json["error"]["fields"]
    moved = client.patch(
        f"/api/v1/selected-cases/{case.id}", json={"contest_year": 2020}, headers=staff
    )
    assert moved.status_code == 422  # the contest year is not editable
    _official, headers = as_role(Role.OFFICIAL, municipality)
    refused = client.patch(
        f"/api/v1/selected-cases/{case.id}", json={"award": "대상"}, headers=headers
    )
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(SelectedCase, case.id).award == "최우수상"
