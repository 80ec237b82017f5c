"""Text input with a NUL character is refused with a 422 (PostgreSQL cannot store it)."""

from __future__ import annotations

from backend.permissions import Role


def test_nul_characters_are_a_validation_error_not_a_server_error(client, as_role, count_rows):
    _admin, admin_headers = as_role(Role.ADMIN)
    response = client.post(
        "/api/v1/municipalities",
        headers=admin_headers,
        json={"code": "12", "name": "a\x00b", "region": "x"},
    )
    assert response.status_code == 422 and "name" in response.json["error"]["fields"]
    _official, headers = as_role(Role.OFFICIAL)
    response = client.post(
        "/api/v1/reward-rules",
        headers=headers,
        json={"name": "a\x00b", "incentive": "points", "amount": 1},
    )
    assert response.status_code == 422 and "name" in response.json["error"]["fields"]
