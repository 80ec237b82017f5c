"""Fuzzing the committee and meeting operations with ids that exist (schemathesis).

The contract-wide fuzz (tests/contract/test_fuzz.py) calls every operation with unknown ids as
an admin and a citizen, so most of these answer 403 or 404 there. Here the path ids name a real
committee, appointment, meeting and registration of the caller's municipality, and the callers
are an official (who manages committees and meetings) and the member, so generated bodies reach
the services' rules: no input may cause a 5xx, and every answer must match the contract.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
    r"/(committees|appointments|meetings|registrations|me/(appointments|registrations|calendar))"
)


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def world(create_user, create_committee, create_appointment, create_meeting, register, ctx) -> dict:
    """A committee with a member, a meeting with a registration, and the people to call with."""
    committee = create_committee()
    member = create_user(Role.CITIZEN)
    appointment = create_appointment(committee, member)
    meeting = create_meeting(committee, capacity=3, reserved_seats=1)
    registration = register(meeting, member)
    return {
        "ids": {
            "committee_id": committee.id,
            "appointment_id": appointment.id,
            "meeting_id": meeting.id,
            "registration_id": registration.id,
        },
        Role.OFFICIAL: create_user(Role.OFFICIAL),
        Role.CITIZEN: member,
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
def test_operation_as_member(case, world):
    _fuzz(case, world, Role.CITIZEN)
