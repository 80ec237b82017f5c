"""Every endpoint × every role (and anonymous): the declared rule is the rule enforced.

An endpoint added without an access rule fails `test_every_endpoint_declares_access`; one whose
rule is not enforced fails the matrix. Ids in paths are well-formed but unknown, so an admitted
caller gets past authorisation and learns only "not found" or a validation error.
"""

from __future__ import annotations

import re

import pytest

from backend.ids import new_id
from backend.permissions import Role
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
