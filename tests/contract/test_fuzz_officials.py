"""Fuzz the rewards and certification operations as an official, whose writes the shared fuzz
(admin, citizen) never reaches: every answer must match the contract and none may be a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from backend.permissions import Role
from tests.contract.test_fuzz import CHECKS, MAX_EXAMPLES

DOMAIN_PATHS = (
    r"^/api/v1/(reward-rules|budgets|rewards|me/rewards|users/\{user_id\}/rewards"
    r"|certification-criteria|certificates|me/certificat)"
)


@pytest.fixture
def official_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("official_schema").include(path_regex=DOMAIN_PATHS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_as_official(case, as_role, clock):
    _user, headers = as_role(Role.OFFICIAL)
    case.call_and_validate(headers=headers, checks=CHECKS)
