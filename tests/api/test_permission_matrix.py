"""Every endpoint × every role (and anonymous): the declared rule is the rule enforced.

An endpoint added without an access rule fails `test_every_endpoint_declares_access`; one whose
rule is not enforced fails the matrix. Ids in paths are well-formed but unknown, so an admitted
caller gets past authorisation and learns only "not found" or a validation error.

The tenancy column: every endpoint bound to a municipality's row, by its path
(`test_tenancy_column`), its body (`..._of_bodies`) or a list filter (`..._of_list_filters`),
called on a real row by each municipal role it admits (the official first) from another
municipality, answers 404 `..._not_found` as if the row did not exist (a list: shows none of
it, where the same call at home shows it). National roles see every municipality by design.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.clock import seoul_today
from backend.ids import new_id
from backend.participation.models import IndicatorKind
from backend.permissions import Role
from backend.rewards.models import Incentive
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
#: The roles that belong to one municipality: each of them that an endpoint admits is called
#: from another municipality (the official first, as the issue asks; the others because a
#: citizen's or a scheduler's path through a view is not the official's).
CALLER_ROLES = [Role.OFFICIAL, Role.SCHEDULER, Role.CITIZEN, Role.VERIFIER]

#: Endpoints whose path names no row but whose body does: a caller of another municipality
#: naming a row of `municipality` (`<name>` is replaced by that row's id) is told it does not
#: exist. The rest of each body passes the schema, so the answer is the row's, not a 422.
BODY_BOUND = {
    ("POST", "/api/v1/announcements"): {
        "title": "안내",
        "body": "본문",
        "project_id": "<project_id>",
    },
    ("POST", "/api/v1/certificates"): {"user_id": "<user_id>"},
    ("POST", "/api/v1/committees"): {
        "name": "위원회",
        "seats": 5,
        "term_months": 12,
        "project_id": "<project_id>",
    },
    ("POST", "/api/v1/disputes"): {
        "project_id": "<project_id>",
        "subject": "분쟁",
        "claims": "주장",
    },
    ("POST", "/api/v1/indicator-records"): {
        "kind": "ordinance",
        "title": "조례 정비",
        "occurred_on": "2026-01-05",
        "project_id": "<project_id>",
    },
    ("POST", "/api/v1/rewards/corrections"): {
        "user_id": "<user_id>",
        "incentive": "points",
        "amount": -10,
        "reason": "정정",
    },
    ("POST", "/api/v1/rewards/grants"): {
        "user_id": "<user_id>",
        "incentive": "points",
        "amount": 10,
        "reason": "표창",
    },
    ("POST", "/api/v1/rewards/redemptions"): {
        "user_id": "<user_id>",
        "incentive": "points",
        "amount": 10,
        "reason": "사용",
    },
}
#: List endpoints filtered by a row of `municipality` (query argument -> row): from another
#: municipality the row is refused (404) or the page holds nothing of `municipality`; the same
#: call by the same role of `municipality` shows the row, so an empty page proves the scoping.
QUERY_BOUND = {
    "/api/v1/activities": ("project_id", "project_id"),
    "/api/v1/certificates": ("user_id", "user_id"),
    "/api/v1/committees": ("project_id", "project_id"),
    "/api/v1/disputes": ("municipality_id", "municipality_id"),
    "/api/v1/indicator-records": ("project_id", "project_id"),
    "/api/v1/meetings": ("committee_id", "committee_id"),
    "/api/v1/projects": ("municipality_id", "municipality_id"),
    "/api/v1/reports/follow-ups": ("municipality_id", "municipality_id"),
    "/api/v1/reports/indicators": ("municipality_id", "municipality_id"),
    "/api/v1/reports/stage-modes": ("municipality_id", "municipality_id"),
    "/api/v1/rewards/entries": ("user_id", "user_id"),
    "/api/v1/selected-cases": ("municipality_id", "municipality_id"),
    "/api/v1/users": ("municipality_id", "municipality_id"),
}


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
    from backend.rewards import services as rewards

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
    # Rows only the list filters find: a project's committee, an indicator fact of the
    # project, a reward of the citizen.
    project_committee = create_committee(municipality, project_id=project.id)
    fact = participation.record_indicator(
        actor=official,
        kind=IndicatorKind.ORDINANCE,
        title="조례 정비",
        occurred_on=seoul_today(),
        project_id=project.id,
    )
    reward = rewards.grant_reward(
        actor=official, user=citizen, incentive=Incentive.POINTS, amount=10, reason="표창"
    )
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
        # not path arguments: rows the list filters must show at home and hide abroad
        "project_committee_id": project_committee.id,
        "indicator_record_id": fact.id,
        "reward_entry_id": reward.id,
    }


def _refused_as_missing(response) -> bool:
    """404 with a `..._not_found` code: the row is treated as if it did not exist."""
    return response.status_code == 404 and response.json["error"]["code"].endswith("_not_found")


def _callers(as_role, municipality):
    """A caller (headers) of `municipality` per municipal role, made on first use."""
    made: dict[Role, dict[str, str]] = {}

    def headers(role: Role) -> dict[str, str]:
        if role not in made:
            made[role] = as_role(role, municipality=municipality)[1]
        return made[role]

    return headers


def test_tenancy_column(app, client, as_role, other_municipality, rows_of_one_municipality):
    """Every endpoint bound to a municipality's row by its path, called on a real row by each
    municipal role it admits from another municipality, answers 404 `..._not_found` (as if
    the row did not exist), never 403: a stranger does not learn that the row exists."""
    rows = rows_of_one_municipality
    stranger = _callers(as_role, other_municipality)
    problems, operations, calls = [], set(), 0
    for rule, method, view in _operations(app):
        names = set(_ARGUMENT.findall(rule.rule))
        access = view.access
        if not names or names & NOT_MUNICIPAL or access.public:
            continue
        roles = [r for r in CALLER_ROLES if r in access.roles]
        if not roles:  # national roles only: they see every municipality by design
            continue
        path = _ARGUMENT.sub(lambda m: rows[m[1]], rule.rule)
        for role in roles:
            response = client.open(
                path,
                method=method,
                headers=stranger(role),
                json=BODIES.get(rule.rule, {}) if method in ("POST", "PUT", "PATCH") else None,
            )
            operations.add((method, rule.rule))
            calls += 1
            if not _refused_as_missing(response):
                problems.append(f"{method} {rule.rule} as {role.value}: {response.status_code}")
    assert len(operations) >= 85
    assert calls >= 165
    assert problems == []


def test_tenancy_column_of_bodies(
    app, client, as_role, other_municipality, rows_of_one_municipality
):
    """An endpoint whose body names a row (the citizen rewarded or certified, the project a
    committee, dispute, announcement or indicator fact is about) refuses a row of another
    municipality as not found, for each municipal role it admits."""
    rows = rows_of_one_municipality
    stranger = _callers(as_role, other_municipality)
    operations = {(method, rule.rule): view for rule, method, view in _operations(app)}
    problems, calls = [], 0
    for (method, path), body in BODY_BOUND.items():
        sent = {k: rows[v[1:-1]] if str(v).startswith("<") else v for k, v in body.items()}
        for role in (r for r in CALLER_ROLES if r in operations[(method, path)].access.roles):
            response = client.open(path, method=method, headers=stranger(role), json=sent)
            calls += 1
            if not _refused_as_missing(response):
                problems.append(f"{method} {path} as {role.value}: {response.status_code}")
    assert calls >= len(BODY_BOUND)
    assert problems == []


def test_tenancy_column_of_list_filters(
    app, client, as_role, municipality, other_municipality, rows_of_one_municipality
):
    """A list filtered by a row of another municipality shows nothing of it (or 404s), where
    the same role of the row's municipality, with the same filter, sees the row."""
    rows = rows_of_one_municipality
    # A row's id, or the municipality's (the aggregate reports name only it), in the body.
    evidence = {v for k, v in rows.items() if k != "stage"}
    home, stranger = _callers(as_role, municipality), _callers(as_role, other_municipality)
    operations = {(method, rule.rule): view for rule, method, view in _operations(app)}
    problems, checked = [], set()

    def shown(response) -> set[str]:
        return {row_id for row_id in evidence if row_id in response.get_data(as_text=True)}

    for path, (argument, row) in QUERY_BOUND.items():
        query = {argument: rows[row]}
        for role in (r for r in CALLER_ROLES if r in operations[("GET", path)].access.roles):
            at_home = client.get(path, query_string=query, headers=home(role))
            if at_home.status_code != 200 or not shown(at_home):
                continue  # this role sees none of these rows at home either: nothing to prove
            checked.add(path)
            abroad = client.get(path, query_string=query, headers=stranger(role))
            leaked = shown(abroad) if abroad.status_code == 200 else set()
            if not (_refused_as_missing(abroad) or (abroad.status_code == 200 and not leaked)):
                problems.append(f"GET {path}?{argument} as {role.value}: {abroad.status_code}")
    assert checked == set(QUERY_BOUND), "every filter is proven on a row its caller sees at home"
    assert problems == []
