"""What every schemathesis fuzz of the suite shares: the contract, the checks, and which role
calls which operation.

The schema is the committed mobile contract (`mobile_contract/openapi.json`, which
tests/contract/test_contract.py keeps equal to the live app), loaded at import time so that
every operation is its own test item: pytest-xdist can spread them, and a fixture made per item
(a user and its login, a `world` of rows) is made once per operation, not once per generated case.

A role fuzzes only the operations its `x-roles` admit (and the public ones): the refusals of the
others are proven, operation by operation and role by role, by tests/api/test_permission_matrix.py.
The coverage phase (boundary and invalid values, deterministic) depends on the operation, not on
the caller, so when several roles of one file fuzz an operation only the first of them runs it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.permissions import Role

CONTRACT = Path(__file__).resolve().parents[2] / "mobile_contract" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: The hypothesis settings of every fuzz test.
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)


def _contract() -> dict[str, Any]:
    with CONTRACT.open(encoding="utf-8") as handle:
        return json.load(handle)


def admitted_roles(operation: Any) -> set[str] | None:
    """The roles an operation admits (its `x-roles`), or None for a public operation."""
    roles = operation.definition.raw.get("x-roles")
    return None if roles is None else set(roles)


def _selects(
    role: Role, before: tuple[Role, ...], path_regex: str | None, coverage: bool
) -> Callable[[Any], bool]:
    earlier = {other.value for other in before}
    pattern = re.compile(path_regex) if path_regex else None

    def matches(ctx: Any) -> bool:
        operation = ctx.operation
        if pattern is not None and not pattern.search(operation.path):
            return False
        roles = admitted_roles(operation)
        if roles is not None and role.value not in roles:
            return False
        # An earlier role of the same file ran this operation's coverage phase already.
        covered_before = bool(earlier) if roles is None else bool(earlier & roles)
        return coverage != covered_before

    return matches


def fuzz_schema(
    role: Role, *, coverage: bool, before: Iterable[Role] = (), path_regex: str | None = None
) -> Any:
    """The operations `role` may call (matching `path_regex`) whose coverage phase this role
    runs (`coverage=True`: no role of `before` may call them) or not (`coverage=False`: one of
    `before` may, and ran it). schemathesis fails a test whose schema selects nothing, so a
    file declares only the combinations that select something."""
    schema = schemathesis.openapi.from_dict(_contract())
    schema.config.phases.coverage.enabled = coverage
    return schema.include(func=_selects(role, tuple(before), path_regex, coverage))
