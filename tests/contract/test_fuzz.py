"""Property-based fuzzing of every documented operation (schemathesis).

Each operation is called with generated input, as an admin and as a citizen, and must never
answer 5xx; every answer must conform to the documented status codes, content types and
schemas (including the one error shape).
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

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def _fuzz(case, as_role, role: Role) -> None:
    _user, headers = as_role(role)
    case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_as_admin(case, as_role):
    _fuzz(case, as_role, Role.ADMIN)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_operation_as_citizen(case, as_role):
    _fuzz(case, as_role, Role.CITIZEN)
