"""Property-based fuzzing of every documented operation (schemathesis).

Each operation is called with generated input as an admin and as a citizen, each over the
operations their `x-roles` admit (and the public ones), and must never answer 5xx; every answer
must conform to the documented status codes, content types and schemas (including the one error
shape). Who may not call what is proven by tests/api/test_permission_matrix.py; see
tests/contract/fuzzing.py for how the work is shared out.
"""

from __future__ import annotations

import pytest

from backend.permissions import Role
from tests.contract.fuzzing import CHECKS, FUZZ_SETTINGS, fuzz_schema

admin_schema = fuzz_schema(Role.ADMIN, coverage=True)
citizen_only_schema = fuzz_schema(Role.CITIZEN, coverage=True, before=[Role.ADMIN])
citizen_shared_schema = fuzz_schema(Role.CITIZEN, coverage=False, before=[Role.ADMIN])


@pytest.fixture
def admin_headers(as_role) -> dict[str, str]:
    """One admin and one login per test item (per operation), not per generated case."""
    return as_role(Role.ADMIN)[1]


@pytest.fixture
def citizen_headers(as_role) -> dict[str, str]:
    """One citizen and one login per test item (per operation), not per generated case."""
    return as_role(Role.CITIZEN)[1]


@admin_schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_admin(case, app, admin_headers):
    case.call_and_validate(app=app, headers=admin_headers, checks=CHECKS)


@citizen_only_schema.parametrize()
@FUZZ_SETTINGS
def test_operation_as_citizen(case, app, citizen_headers):
    case.call_and_validate(app=app, headers=citizen_headers, checks=CHECKS)


@citizen_shared_schema.parametrize()
@FUZZ_SETTINGS
def test_shared_operation_as_citizen(case, app, citizen_headers):
    case.call_and_validate(app=app, headers=citizen_headers, checks=CHECKS)
