"""Fuzzing the participation and report operations with ids that exist (schemathesis).

The contract-wide fuzz calls every operation with unknown ids, so most participation
operations answer 404 there. Here the path ids name a real project, activity, participation
and survey of the caller's municipality, and the callers are an official and a citizen who
took part, so generated bodies and query strings reach the services' rules: no input may cause
a 5xx, and every answer must match the contract (JSON or CSV).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.extensions import db
from backend.participation import services
from backend.permissions import Role
from tests.fixtures.identity import auth_headers_for

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PATHS = (
    r"/(projects|activities|participations|surveys|indicator-records|reports|"
    r"me/participations)"
)


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def world(create_user, create_project, create_activity, official, clock, ctx) -> dict:
    """A project with an activity that started, a citizen who attended, and a survey."""
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
        Role.OFFICIAL: official,
        Role.CITIZEN: citizen,
    }


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=PATHS)


def _fuzz(case, world, role: Role) -> None:
    for name in list(case.path_parameters or {}):
        if name in world["ids"]:
            case.path_parameters[name] = world["ids"][name]
    case.call_and_validate(headers=auth_headers_for(world[role]), checks=CHECKS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_as_official(case, world):
    _fuzz(case, world, Role.OFFICIAL)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_as_citizen(case, world):
    _fuzz(case, world, Role.CITIZEN)
