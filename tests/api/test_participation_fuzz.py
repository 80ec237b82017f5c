"""Fuzzing the participation and report operations with ids that exist (schemathesis).

The contract-wide fuzz calls every operation with unknown ids, so most participation
operations answer 404 there. Here the path ids name a real project, activity, participation
and survey of the caller's municipality, and the callers are an official and a citizen who
took part, so generated bodies and query strings reach the services' rules: no input may cause
a 5xx, and every answer must match the contract (JSON or CSV). Each caller fuzzes the
operations its `x-roles` admit (see tests/contract/fuzzing.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.extensions import db
from backend.participation import services
from backend.permissions import Role
from tests.contract.fuzzing import CHECKS, FUZZ_SETTINGS, fuzz_schema
from tests.fixtures.identity import auth_headers_for

PATHS = (
    r"/(projects|activities|participations|surveys|indicator-records|reports|"
    r"me/participations)"
)


@pytest.fixture
def world(create_user, create_project, create_activity, official, clock, ctx) -> dict:
    """A project with an activity that started, a citizen who attended, and a survey; the
    callers log in once per test item, not per generated case."""
    project = create_project()
    activity = create_activity(project, starts_at=clock.now - timedelta(minutes=10), hours=2)
    citizen = create_user(Role.CITIZEN)
    participation = services.record_participation(
        actor=official, activity=activity, user_id=citizen.id, attended=True
    )
    survey = services.create_survey(actor=official, project=project, title="만족도")
    db.session.commit()
    return {
        "ids": {
            "project_id": project.id,
            "activity_id": activity.id,
            "participation_id": participation.id,
            "survey_id": survey.id,
        },
        Role.OFFICIAL: auth_headers_for(official),
        Role.CITIZEN: auth_headers_for(citizen),
    }


official_schema = fuzz_schema(Role.OFFICIAL, coverage=True, path_regex=PATHS)
citizen_only_schema = fuzz_schema(
    Role.CITIZEN, coverage=True, before=[Role.OFFICIAL], path_regex=PATHS
)
citizen_shared_schema = fuzz_schema(
    Role.CITIZEN, coverage=False, before=[Role.OFFICIAL], path_regex=PATHS
)


def _fuzz(case, app, world, role: Role) -> None:
    for name in list(case.path_parameters or {}):
        if name in world["ids"]:
            case.path_parameters[name] = world["ids"][name]
    case.call_and_validate(app=app, headers=world[role], checks=CHECKS)


@official_schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_official(case, app, world):
    _fuzz(case, app, world, Role.OFFICIAL)


@citizen_only_schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_citizen(case, app, world):
    _fuzz(case, app, world, Role.CITIZEN)


@citizen_shared_schema.parametrize()
@FUZZ_SETTINGS
def test_shared_operation_as_citizen(case, app, world):
    _fuzz(case, app, world, Role.CITIZEN)
