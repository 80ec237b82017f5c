"""Fuzz the rewards, certification and announcement operations as an official, whose writes
the shared fuzz (admin, citizen) never reaches: every answer must match the contract and none
may be a 5xx. The official fuzzes the operations its `x-roles` admit (see
tests/contract/fuzzing.py)."""

from __future__ import annotations

import pytest

from backend.permissions import Role
from tests.contract.fuzzing import CHECKS, FUZZ_SETTINGS, fuzz_schema

DOMAIN_PATHS = (
    r"^/api/v1/(reward-rules|budgets|rewards|me/rewards|users/\{user_id\}/rewards"
    r"|certification-criteria|certificates|me/certificat|announcements)"
)

schema = fuzz_schema(Role.OFFICIAL, coverage=True, path_regex=DOMAIN_PATHS)


@pytest.fixture
def official_headers(as_role, clock) -> dict[str, str]:
    """One official and one login per test item (per operation), not per generated case."""
    return as_role(Role.OFFICIAL)[1]


@schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_official(case, app, official_headers):
    case.call_and_validate(app=app, headers=official_headers, checks=CHECKS)
