"""Idempotency-Key: a retried POST replays its first answer and never acts twice."""

from __future__ import annotations

from backend.identity.models import Municipality, User
from backend.permissions import Role
from tests.privacy.signup import signup_fields


def _register(client, municipality, key, **change):
    body = {
        "email": "retry@example.test",
        "password": "a-long-password",
        "display_name": "재시도",
        "municipality_id": municipality.id,
        **signup_fields(),
        **change,
    }
    return client.post("/api/v1/auth/register", json=body, headers={"Idempotency-Key": key})


def test_same_key_same_body_replays_without_acting_twice(client, municipality, count_rows):
    first = _register(client, municipality, "key-1")
    second = _register(client, municipality, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Idempotency-Replayed"] == "true"
    assert count_rows(User) == 1


def test_same_key_other_body_is_409(client, municipality, count_rows):
    assert _register(client, municipality, "key-2").status_code == 201
    other = _register(client, municipality, "key-2", display_name="다른이름")
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert count_rows(User) == 1


def test_without_a_key_a_duplicate_is_a_conflict_not_a_double(client, municipality, count_rows):
    assert _register(client, municipality, "key-3").status_code == 201
    again = client.post(
        "/api/v1/auth/register",
        json={
            "email": "retry@example.test",
            "password": "a-long-password",
            "display_name": "재시도",
            "municipality_id": municipality.id,
            **signup_fields(),
        },
    )
    assert again.status_code == 409
    assert count_rows(User) == 1


def test_failed_request_does_not_burn_the_key(client, municipality, count_rows):
    bad = _register(client, municipality, "key-4", password="short")
    assert bad.status_code == 422
    good = _register(client, municipality, "key-4")
    assert good.status_code == 201
    assert count_rows(User) == 1


def test_keys_are_scoped_per_caller(client, as_role, count_rows):
    _a, admin_a = as_role(Role.ADMIN)
    _b, admin_b = as_role(Role.ADMIN)
    before = count_rows(Municipality)
    body = {"code": "99999", "name": "테스트시", "region": "테스트도"}
    first = client.post(
        "/api/v1/municipalities", json=body, headers={**admin_a, "Idempotency-Key": "shared"}
    )
    other = client.post(
        "/api/v1/municipalities", json=body, headers={**admin_b, "Idempotency-Key": "shared"}
    )
    assert first.status_code == 201
    # Another caller's identical key is not a replay of someone else's answer.
    assert other.status_code == 409 and other.json["error"]["code"] == "municipality_exists"
    assert count_rows(Municipality) == before + 1


def test_invalid_key_is_422(client, municipality):
    response = _register(client, municipality, "x" * 200)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_invalid"
