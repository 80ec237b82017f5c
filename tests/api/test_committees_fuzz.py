"""Fuzzing the committee and meeting operations with ids that exist (schemathesis).

The contract-wide fuzz (tests/contract/test_fuzz.py) calls every operation with unknown ids as
an admin and a citizen, so most of these answer 403 or 404 there. Here the path ids name a real
committee, appointment, meeting and registration of the caller's municipality, and the callers
are an official (who manages committees and meetings) and the member, so generated bodies reach
the services' rules: no input may cause a 5xx, and every answer must match the contract.
Each caller fuzzes the operations its `x-roles` admit (see tests/contract/fuzzing.py).
"""

from __future__ import annotations

import pytest

from backend.permissions import Role
from tests.contract.fuzzing import CHECKS, FUZZ_SETTINGS, fuzz_schema
from tests.fixtures.identity import auth_headers_for

PATHS = (
    r"/(committees|appointments|meetings|registrations|me/(appointments|registrations|calendar))"
)


@pytest.fixture
def world(create_user, create_committee, create_appointment, create_meeting, register, ctx) -> dict:
    """A committee with a member, a meeting with a registration, and the people to call with
    (one login each per test item, not per generated case)."""
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
        Role.OFFICIAL: auth_headers_for(create_user(Role.OFFICIAL)),
        Role.CITIZEN: auth_headers_for(member),
    }


official_schema = fuzz_schema(Role.OFFICIAL, coverage=True, path_regex=PATHS)
member_only_schema = fuzz_schema(
    Role.CITIZEN, coverage=True, before=[Role.OFFICIAL], path_regex=PATHS
)
member_shared_schema = fuzz_schema(
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


@member_only_schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_member(case, app, world):
    _fuzz(case, app, world, Role.CITIZEN)


@member_shared_schema.parametrize()
@FUZZ_SETTINGS
def test_shared_operation_as_member(case, app, world):
    _fuzz(case, app, world, Role.CITIZEN)
