"""Each class of hostile input answers a 4xx in the one error shape and writes nothing, on
every endpoint of its kind (SQLite and PostgreSQL alike): deep JSON, lone surrogates, NUL in
path ids and query values, invisible or direction-changing text, fractional integers, non-JSON
bodies and over-long Idempotency-Keys."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from backend.api.request_rules import MAX_JSON_DEPTH
from backend.clock import SEOUL
from backend.permissions import Role

API = "/api/v1"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(True)[:300])
    body = response.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def world(client, as_role, create_activity, clock):
    """An official, a citizen, an admin and an open activity of their municipality."""
    official, official_headers = as_role(Role.OFFICIAL)
    citizen, citizen_headers = as_role(Role.CITIZEN)
    _admin, admin_headers = as_role(Role.ADMIN)
    activity = create_activity(starts_at=clock.now + timedelta(days=1))
    return {
        "official": official_headers,
        "citizen": citizen_headers,
        "admin": admin_headers,
        "citizen_id": citizen.id,
        "activity": activity,
    }


def _json_endpoints(world) -> list[tuple[str, str, dict]]:
    activity = world["activity"]
    return [
        ("/auth/login", "POST", {}),
        ("/auth/register", "POST", {}),
        ("/certificates/verify", "POST", {}),
        (f"/activities/{activity.id}/participations", "POST", world["official"]),
        (f"/activities/{activity.id}/participations", "POST", world["citizen"]),
        (f"/projects/{activity.project_id}/activities", "POST", world["official"]),
        ("/projects", "POST", world["official"]),
        (f"/projects/{activity.project_id}", "PATCH", world["official"]),
        ("/reward-rules", "POST", world["official"]),
        ("/me/notification-preferences", "PUT", world["citizen"]),
    ]


def _send(client, method: str, path: str, headers: dict, raw: str, **kwargs):
    return client.open(
        API + path,
        method=method,
        data=raw.encode("utf-8"),
        content_type="application/json",
        headers=headers,
        **kwargs,
    )


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_is_400_everywhere(client, world, table_counts, depth):
    before = table_counts()
    for path, method, headers in _json_endpoints(world):
        for raw in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
            _error(_send(client, method, path, headers, raw), 400, "json_too_deep")
    assert table_counts() == before


def test_json_as_deep_as_allowed_is_parsed(client, world):
    # At the limit the body is read, and refused by the schema for what it is, not its depth.
    raw = '{"identifier": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    _error(_send(client, "POST", "/auth/login", {}, raw), 422, "validation_failed")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\udc00y"])
def test_lone_surrogates_in_any_string_are_422(client, world, table_counts, escape):
    before = table_counts()
    login = f'{{"identifier": "{escape}", "password": "pw"}}'
    error = _error(_send(client, "POST", "/auth/login", {}, login), 422, "validation_failed")
    assert "identifier" in error["fields"]
    project = f'{{"title": "{escape}", "field": "safety", "starts_on": "2026-01-01",'
    project += ' "ends_on": "2026-12-31"}'
    error = _error(
        _send(client, "POST", "/projects", world["official"], project), 422, "validation_failed"
    )
    assert "title" in error["fields"]
    verify = f'{{"text": "CPC1:{escape}"}}'
    _error(_send(client, "POST", "/certificates/verify", {}, verify), 422, "validation_failed")
    key = f'{{"{escape}": 1}}'
    _error(_send(client, "POST", "/auth/register", {}, key), 422, "validation_failed")
    assert table_counts() == before


def test_a_surrogate_pair_is_an_ordinary_character(client, world):
    raw = '{"title": "\\ud83d\\ude00 행사", "field": "safety", "starts_on": "2026-01-01",'
    raw += ' "ends_on": "2026-12-31"}'
    response = _send(client, "POST", "/projects", world["official"], raw)
    assert response.status_code == 201, response.json
    assert response.json["title"] == "\U0001f600 행사"


def _get_routes(app) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.arguments and rule.rule.startswith(API):
            routes.append(rule.rule)
    return sorted(routes)


def test_nul_in_any_path_id_is_404_on_every_get_endpoint(app, client, world):
    routes = _get_routes(app)
    assert len(routes) > 30
    for rule in routes:
        path = re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", "%00", rule)
        for headers in (world["admin"], world["official"], world["citizen"]):
            response = client.get(path, headers=headers)
            _error(response, 404, "not_found")


def test_nul_in_a_query_value_is_422(client, world):
    for path in ("/projects?cursor=%00", "/activities?q=a%00b", "/me/notifications?cursor=%00"):
        error = _error(client.get(API + path, headers=world["official"]), 422, "validation_failed")
        assert error["fields"]


@pytest.mark.parametrize(
    "title",
    [
        "abc\u202etxt.exe",  # right-to-left override
        "\u2066isolate\u2069",  # isolates
        "\u200d\u200d\u200d",  # nothing visible: zero-width joiners
        "\u3164\u3164",  # Hangul fillers
        " \u200b ",  # spaces and a zero-width space
        "a\x85b",  # C1 next line
        "a\x9bb",  # C1 control sequence introducer
        "a\x07b",  # C0 bell
    ],
)
def test_invisible_or_direction_changing_text_is_refused(client, world, table_counts, title):
    before = table_counts()
    activity = world["activity"]
    bodies = [
        (
            "POST",
            "/projects",
            {"title": title, "field": "safety", "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
        ),
        ("PATCH", f"/projects/{activity.project_id}", {"title": title}),
        ("POST", "/reward-rules", {"name": title, "incentive": "points", "amount": 1}),
    ]
    for method, path, body in bodies:
        response = client.open(API + path, method=method, json=body, headers=world["official"])
        error = _error(response, 422, "validation_failed")
        assert set(error["fields"]) & {"title", "name"}
    assert table_counts() == before


def test_ordinary_korean_text_with_marks_and_line_breaks_passes(client, world):
    response = client.post(
        f"{API}/projects",
        json={
            "title": "안심 귀갓길 (2단계) — \u00e9t\u00e9",
            "field": "safety",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
        headers=world["official"],
    )
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("value", [1.5, 2.0, "3", True])
def test_integers_must_be_integers(client, world, clock, table_counts, value):
    before = table_counts()
    start = clock.now + timedelta(days=2)
    body = {
        "stage": "plan",
        "kind": "workshop",
        "title": "주민 워크숍",
        "starts_at": start.astimezone(SEOUL).isoformat(),
        "ends_at": (start + timedelta(hours=2)).astimezone(SEOUL).isoformat(),
        "capacity": value,
    }
    project_id = world["activity"].project_id
    response = client.post(
        f"{API}/projects/{project_id}/activities", json=body, headers=world["official"]
    )
    assert "capacity" in _error(response, 422, "validation_failed")["fields"]
    response = client.post(
        f"{API}/reward-rules",
        json={"name": "포인트", "incentive": "points", "amount": value},
        headers=world["official"],
    )
    assert "amount" in _error(response, 422, "validation_failed")["fields"]
    assert table_counts() == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_body_must_be_json(client, world, table_counts, content_type):
    before = table_counts()
    activity = world["activity"]
    cases = [
        (f"/activities/{activity.id}/participations", world["citizen"], "{}"),
        ("/auth/login", {}, '{"identifier": "a@b.c", "password": "x"}'),
        ("/certificates/verify", {}, '{"text": "CPC1:x"}'),
        ("/projects", world["official"], '{"title": "x"}'),
    ]
    for path, headers, raw in cases:
        response = client.post(API + path, data=raw, content_type=content_type, headers=headers)
        _error(response, 415, "unsupported_media_type")
    assert table_counts() == before


def test_a_bodiless_action_needs_no_content_type(client, world):
    activity = world["activity"]
    response = client.post(
        f"{API}/activities/{activity.id}/participations", headers=world["citizen"]
    )
    assert response.status_code == 201, response.json


def test_a_body_over_the_size_limit_is_413(app, client, world):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    raw = '{"identifier": "' + "a" * app.config["MAX_CONTENT_LENGTH"] + '", "password": "x"}'
    _error(_send(client, "POST", "/auth/login", {}, raw), 413, "payload_too_large")


def test_idempotency_keys_over_128_characters_are_refused_everywhere(
    app, client, world, table_counts
):
    before = table_counts()
    activity = world["activity"]
    long_key = {"Idempotency-Key": "k" * 129}
    cases = [
        ("/certificates/verify", {}, {"text": "CPC1:x"}),
        ("/auth/login", {}, {"identifier": "a@b.c", "password": "x"}),
        (f"/activities/{activity.id}/participations", world["citizen"], {}),
    ]
    for path, headers, body in cases:
        response = client.post(API + path, json=body, headers={**headers, **long_key})
        error = _error(response, 422, "idempotency_key_invalid")
        assert "Idempotency-Key" in error["fields"]
    ok = client.post(
        f"{API}/certificates/verify",
        json={"text": "CPC1:x"},
        headers={"Idempotency-Key": "k" * 128},
    )
    assert ok.status_code == 200
    assert table_counts() == before


def test_nul_in_any_body_string_is_422_naming_the_field(client, world, table_counts):
    before = table_counts()
    error = _error(
        client.post(f"{API}/auth/login", json={"identifier": "a\x00@b.cd", "password": "x\x00"}),
        422,
        "validation_failed",
    )
    assert {"identifier", "password"} <= set(error["fields"])
    error = _error(
        client.post(
            f"{API}/me/devices",
            json={"token": "t\x00", "platform": "android"},
            headers=world["citizen"],
        ),
        422,
        "validation_failed",
    )
    assert "token" in error["fields"]
    assert table_counts() == before
