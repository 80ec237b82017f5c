"""Property-based hostile input against every documented endpoint: bodies nested past the
limit, lone surrogates, control, direction and invisible characters, and numbers outside any
column's range, in every property of every body and every query parameter. Whatever the role,
the answer is never a 5xx, and every 4xx is the one JSON error shape.

Grouped by endpoint family (the first path segment), a few dozen examples each, so the whole
file runs in seconds per family. (The schemathesis fuzz files check conformance; this one
aims only at the input classes of issue 11.)
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.api.contract import build_openapi
from backend.api.request_rules import MAX_JSON_DEPTH
from backend.ids import new_id
from backend.permissions import Role

EXAMPLES_PER_FAMILY = 30
_PARAMETER = re.compile(r"\{([a-z_]+)\}")

HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "\ud800",  # lone surrogates
            "x\udfffy",
            "\x00",  # NUL
            "a\x00b",
            "a\x07b",  # C0
            "\x85",  # C1
            "a\x9bb",
            "\u202etxt.exe",  # bidi override
            "\u2066x\u2069",  # isolate
            "\u200d\u200d\u200d",  # nothing visible
            "\u3164",
            " \u200b ",
            "",
            "x" * 10_000,
        ]
    ),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zs", "Co"]), max_size=8),
)
HOSTILE_NUMBER = st.one_of(
    st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30, 1.5, -0.5, 1e308, 0]),
    st.integers(min_value=2**31, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-(2**31)),
    st.floats(allow_nan=False, allow_infinity=False),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    HOSTILE_NUMBER,
    st.booleans(),
    st.none(),
    st.lists(HOSTILE_TEXT | HOSTILE_NUMBER, max_size=3),
    st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT | HOSTILE_NUMBER, max_size=2),
)


def _url(value: object) -> str:
    # A lone surrogate reaches a URL as the bytes a careless encoder makes of it.
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def _nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture(scope="module")
def operations(app) -> dict[str, list[tuple[str, str, list[str], list[str]]]]:
    """Family -> [(method, path template, body properties, query parameters)]."""
    spec = build_openapi(app)
    schemas = spec["components"]["schemas"]
    by_family: dict[str, list[tuple[str, str, list[str], list[str]]]] = defaultdict(list)
    for path, operations_of in spec["paths"].items():
        if not path.startswith("/api/v1/") or path.endswith("openapi.json"):
            continue
        family = path.split("/")[3]
        for method, operation in operations_of.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            properties: list[str] = []
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                ref = body["schema"].get("$ref", "")
                properties = list(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            by_family[family].append((method.upper(), path, properties, query))
    return by_family


FAMILIES = [
    "auth", "me", "municipalities", "users", "audit-log", "projects", "activities",
    "participations", "surveys", "indicator-records", "reports", "committees", "appointments",
    "meetings", "registrations", "reward-rules", "rewards", "budgets",
    "certification-criteria", "certificates", "announcements", "admin", "selected-cases",
    "mediation", "disputes", "courses", "enrolments", "calendar-feeds", "access-records",
    "consent-texts",
]  # fmt: skip


def _assert_answer(response, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code, response.get_data(True))
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body is not None and set(body) == {"error"}, (where, response.get_data(True))
        assert set(body["error"]) == {"code", "message", "fields"}, where


@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_input_never_answers_5xx(app, client, as_role, operations, family):
    found = operations.get(family)
    if not found:
        pytest.fail(f"no documented operation in family {family!r}")
    headers_by_role = {role: as_role(role)[1] for role in (Role.ADMIN, Role.OFFICIAL, Role.CITIZEN)}

    @settings(
        max_examples=EXAMPLES_PER_FAMILY,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        operation=st.sampled_from(found),
        role=st.sampled_from(list(headers_by_role)),
        values=st.lists(HOSTILE_VALUE, min_size=1, max_size=12),
        deep=st.none()
        | st.tuples(st.integers(MAX_JSON_DEPTH + 1, 5_000), st.sampled_from(["array", "object"])),
        path_value=st.sampled_from(["id", "\x00", "hostile"]),
    )
    def check(operation, role, values, deep, path_value):
        method, template, properties, query = operation

        def path_part(name: str) -> str:
            if name == "stage":
                return "plan"
            if path_value == "id":
                return new_id()
            return _url("\x00" if path_value == "\x00" else values[0])

        path = _PARAMETER.sub(lambda m: path_part(m[1]), template)
        if query:
            pairs = [
                f"{quote(name)}={_url(values[i % len(values)])}" for i, name in enumerate(query)
            ]
            path += "?" + "&".join(pairs)
        raw = None
        if method in ("POST", "PUT", "PATCH"):
            if deep is not None:
                raw = _nested(*deep)
            else:
                body = {name: values[i % len(values)] for i, name in enumerate(properties)}
                raw = json.dumps(body or values[0])  # ensure_ascii: surrogates as \ud800
        response = client.open(
            path,
            method=method,
            data=raw,
            content_type="application/json" if raw is not None else None,
            headers=headers_by_role[role],
        )
        _assert_answer(response, f"{method} {path[:120]}")
        if deep is not None and raw is not None and response.status_code != 429:
            # Deep bodies are refused before anything else reads them.
            assert response.status_code in (400, 401, 403, 404, 405), response.status_code

    check()


def test_every_documented_family_is_covered(operations):
    assert sorted(operations) == sorted(FAMILIES)
