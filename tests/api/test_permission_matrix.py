"""Every endpoint × every role (and anonymous): the declared rule is the rule enforced.

An endpoint added without an access rule fails `test_every_endpoint_declares_access`; one whose
rule is not enforced fails the matrix. Ids in paths are well-formed but unknown, so an admitted
caller gets past authorisation and learns only "not found" or a validation error.

The tenancy column (`test_tenancy_column`): every endpoint bound to a municipality's row, called
on a real row by a caller of another municipality, refuses (404 or 403).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.clock import seoul_today
from backend.ids import new_id
from backend.permissions import Role
from tests.fixtures.identity import auth_headers_for

ROLES = [None, *Role]
_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
#: Endpoints that are not ours (Flask's static files).
IGNORED_ENDPOINTS = {"static"}


def _operations(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        # The console's pages answer HTML and send strangers to its login (tests/console).
        if rule.endpoint in IGNORED_ENDPOINTS or rule.endpoint.startswith("console."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, app.view_functions[rule.endpoint]


def _concrete_path(rule) -> str:
    return _ARGUMENT.sub(lambda _m: new_id(), rule.rule)


def test_every_endpoint_declares_access(app):
    undeclared = [
        f"{method} {rule.rule}"
        for rule, method, view in _operations(app)
        if getattr(view, "access", None) is None
    ]
    assert undeclared == [], "endpoints without an access rule (use @public or @requires)"


def test_matrix_covers_many_endpoints(app):
    assert len(list(_operations(app))) >= 10


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_permission_matrix(app, client, as_role, role):
    user = as_role(role)[0] if role is not None else None
    problems = []
    for rule, method, view in _operations(app):
        access = view.access
        # A fresh login per call: an earlier call (logout) may have ended the previous one.
        sent = auth_headers_for(user, refresh=access.refresh) if user else {}
        response = client.open(
            _concrete_path(rule),
            method=method,
            headers=sent,
            json={} if method in ("POST", "PUT", "PATCH") else None,
        )
        status = response.status_code
        where = f"{method} {rule.rule} as {role.value if role else 'anonymous'}: {status}"
        if access.public:
            expected_ok = status not in (401, 403)
        elif role is None:
            expected_ok = status == 401
        elif role in access.roles:
            expected_ok = status not in (401, 403)
        else:
            expected_ok = status == 403
        if not expected_ok or status >= 500:
            problems.append(where)
        assert response.is_json or status == 204 or method == "GET", where
        if status >= 400:
            assert set(response.json["error"]) == {"code", "message", "fields"}, where
    assert problems == []


# ---- the tenancy column ----------------------------------------------------------------------

#: Path arguments that name no row of a municipality: the course catalogue and the mediation
#: committee are the ministry's (national), a calendar feed's token is public, the stage is a
#: name, devices and notifications are the caller's own (`/me/...`), static files are files.
NOT_MUNICIPAL = {
    "course_id",
    "member_id",
    "token",
    "device_id",
    "notification_id",
    "filename",
    "purpose",  # a consent purpose of the caller's own
    "export_id",  # the caller's own data export
}
_DAY = "2030-03-0{}T{}:00:00+09:00"
#: Bodies that pass the schemas, so that a refusal is the row's, not the body's (422).
BODIES = {
    "/api/v1/users/<user_id>/guardian-consent": {"method": "in_person", "relation": "모"},
    "/api/v1/activities/<activity_id>/assurance-requirement": {"level": 2},
    "/api/v1/committees/<committee_id>/assurance-requirement": {"level": 2},
    "/api/v1/municipalities/<municipality_id>/dormancy-policy": {
        "inactive_months": 12,
        "action": "restrict",
        "notice_days": 30,
    },
    "/api/v1/activities/<activity_id>/check-in": {"code": "123456"},
    "/api/v1/appointments/<appointment_id>/dismiss": {"reason": "사유"},
    "/api/v1/certificates/<certificate_id>/reissue": {"reason": "분실"},
    "/api/v1/me/certificates/<certificate_id>/reissue": {"reason": "분실"},
    "/api/v1/certificates/<certificate_id>/revoke": {"reason": "사유"},
    "/api/v1/committees/<committee_id>/appointments": {
        "user_id": new_id(),
        "term_start": "2030-03-01",
    },
    "/api/v1/committees/<committee_id>/meetings": {
        "title": "정기회의",
        "capacity": 10,
        "priority_opens_at": _DAY.format(1, 10),
        "general_opens_at": _DAY.format(2, 10),
        "starts_at": _DAY.format(5, 14),
        "ends_at": _DAY.format(5, 16),
    },
    "/api/v1/disputes/<dispute_id>/close-unsettled": {"reason": "사유"},
    "/api/v1/disputes/<dispute_id>/reject": {"reason": "사유"},
    "/api/v1/disputes/<dispute_id>/settle": {"terms": "합의 내용"},
    "/api/v1/disputes/<dispute_id>/hearings": {
        "place": "회의실",
        "starts_at": _DAY.format(5, 14),
        "ends_at": _DAY.format(5, 16),
    },
    "/api/v1/disputes/<dispute_id>/mediators": {"member_id": new_id()},
    "/api/v1/enrolments/<enrolment_id>/rating": {"rating": 5},
    "/api/v1/meetings/<meeting_id>/cancel": {"reason": "사유"},
    "/api/v1/meetings/<meeting_id>/check-in": {"ticket": "x" * 40},
    "/api/v1/meetings/<meeting_id>/check-in-scans": {
        "scans": [{"scan_id": "scan-0001", "ticket": "x" * 40, "scanned_at": "2026-01-01T09:00Z"}]
    },
    "/api/v1/meetings/<meeting_id>/minutes": {"minutes": "회의록"},
    "/api/v1/participations/<participation_id>/reject": {"reason": "사유"},
    "/api/v1/projects/<project_id>/activities": {
        "title": "워크숍",
        "stage": "plan",
        "kind": "workshop",
        "starts_at": _DAY.format(5, 14),
        "ends_at": _DAY.format(5, 16),
    },
    "/api/v1/projects/<project_id>/government-work": {"stage": "plan", "title": "공문 발송"},
    "/api/v1/projects/<project_id>/stages/<stage>/mode-override": {
        "mode": "joint",
        "reason": "사유",
    },
    "/api/v1/projects/<project_id>/surveys": {"title": "만족도 조사"},
    "/api/v1/selected-cases/<case_id>/follow-ups": {"year": 2025},
    "/api/v1/surveys/<survey_id>/responses": {"rating": 5},
}
#: The roles of a municipality, in the order a caller of another municipality is picked.
CALLER_ROLES = [Role.OFFICIAL, Role.SCHEDULER, Role.CITIZEN, Role.VERIFIER]


@pytest.fixture
def rows_of_one_municipality(
    municipality,
    create_user,
    create_project,
    create_activity,
    create_committee,
    create_appointment,
    create_meeting,
    register,
    create_criteria,
    create_certificate,
    create_selected_case,
    file_dispute,
    create_course,
    create_rule,
    create_budget,
):
    """One row of every kind a path names, all of `municipality`, by argument name."""
    from backend.extensions import db
    from backend.ministry import services as ministry
    from backend.participation import services as participation

    citizen = create_user(Role.CITIZEN, municipality=municipality)
    official = create_user(Role.OFFICIAL, municipality=municipality)
    project = create_project()
    activity = create_activity(project)
    joined = participation.join_activity(actor=citizen, activity=activity)
    survey = participation.create_survey(actor=official, project=project, title="만족도 조사")
    committee = create_committee(municipality)
    meeting = create_meeting(committee)
    course = create_course(starts_on=seoul_today() + timedelta(days=30))
    enrolment = ministry.enrol(actor=citizen, course=course)
    db.session.commit()
    return {
        "project_id": project.id,
        "stage": "plan",
        "activity_id": activity.id,
        "participation_id": joined.id,
        "survey_id": survey.id,
        "committee_id": committee.id,
        "appointment_id": create_appointment(committee, citizen).id,
        "meeting_id": meeting.id,
        "registration_id": register(meeting, create_user(Role.CITIZEN)).id,
        "criteria_id": create_criteria(municipality).id,
        "certificate_id": create_certificate(citizen).id,
        "case_id": create_selected_case(project).id,
        "dispute_id": file_dispute(project=project).id,
        "enrolment_id": enrolment.id,
        "user_id": citizen.id,
        "rule_id": create_rule(municipality).id,
        "budget_id": create_budget().id,
        "municipality_id": municipality.id,
    }


def test_tenancy_column(app, client, as_role, other_municipality, rows_of_one_municipality):
    """Every endpoint bound to a municipality's row refuses a caller of another municipality
    (404, as if the row did not exist, or 403), whichever of its roles the endpoint admits."""
    rows = rows_of_one_municipality
    callers: dict[Role, dict[str, str]] = {}
    problems, checked = [], 0
    for rule, method, view in _operations(app):
        names = set(_ARGUMENT.findall(rule.rule))
        access = view.access
        if not names or names & NOT_MUNICIPAL or access.public:
            continue
        role = next((r for r in CALLER_ROLES if r in access.roles), None)
        if role is None:  # national roles only: they see every municipality by design
            continue
        if role not in callers:
            callers[role] = as_role(role, municipality=other_municipality)[1]
        path = _ARGUMENT.sub(lambda m: rows[m[1]], rule.rule)
        response = client.open(
            path,
            method=method,
            headers=callers[role],
            json=BODIES.get(rule.rule, {}) if method in ("POST", "PUT", "PATCH") else None,
        )
        checked += 1
        if response.status_code not in (403, 404):
            problems.append(f"{method} {rule.rule} as {role.value}: {response.status_code}")
    assert checked >= 60
    assert problems == []
