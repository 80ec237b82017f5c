"""Bad input gets a 4xx in the one error shape, in the caller's language, and writes nothing."""

from __future__ import annotations

import pytest

from backend.permissions import Role
from tests.privacy.signup import signup_fields


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_unknown_route_and_method(client):
    _assert_error(client.get("/api/v1/nowhere"), 404, "not_found")
    error = _assert_error(client.delete("/healthz"), 405, "method_not_allowed")
    assert error["fields"] == {}


def test_malformed_json_is_400_and_writes_nothing(client, municipality, table_counts):
    before = table_counts()
    response = client.post(
        "/api/v1/auth/register", data='{"email": "a@b.c",', content_type="application/json"
    )
    _assert_error(response, 400, "malformed_json")
    assert table_counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": 12}, "display_name"),
        ({"display_name": "x" * 51}, "display_name"),
        ({"password": "short"}, "password"),
        ({"nickname": "unknown field"}, "nickname"),
        ({"email": "not-an-email"}, "email"),
        ({"municipality_id": "1"}, "municipality_id"),
        ({"locale": "fr"}, "locale"),
    ],
)
def test_field_errors_name_the_field_and_write_nothing(
    client, municipality, table_counts, change, field
):
    body = {
        "email": "new@example.test",
        "password": "a-long-password",
        "display_name": "홍길동",
        "municipality_id": municipality.id,
        **signup_fields(),
        **change,
    }
    before = table_counts()
    error = _assert_error(client.post("/api/v1/auth/register", json=body), 422, "validation_failed")
    assert field in error["fields"]
    assert table_counts() == before


def test_message_language_follows_accept_language(client):
    korean = client.get("/api/v1/me").json["error"]["message"]
    english = client.get("/api/v1/me", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.json["error"]["code"] == "token_missing"
    assert english.json["error"]["message"] == "A bearer token is required."
    assert korean != english.json["error"]["message"]


def test_citizen_calling_staff_endpoint_is_403(client, as_role, table_counts):
    _user, headers = as_role(Role.CITIZEN)
    before = table_counts()
    response = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "x@y.test",
            "password": "a-long-password",
            "display_name": "x",
            "role": "official",
        },
    )
    _assert_error(response, 403, "permission_denied")
    assert table_counts() == before


def test_unexpected_exception_is_500_in_the_same_shape(app, client, monkeypatch):
    from backend.identity import services

    def explode():
        raise RuntimeError("boom with a secret")

    monkeypatch.setattr(services, "list_municipalities", explode)
    response = client.get("/api/v1/municipalities")
    error = _assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert error["fields"] == {}
