"""Sign-up, login, refresh, logout, lock-out, and roles read from the database."""

from __future__ import annotations

import time

import jwt as pyjwt

from backend.identity.models import AuthSession, User
from backend.permissions import Role
from tests.fixtures.identity import PASSWORD
from tests.privacy.signup import signup_fields


def _login(client, identifier, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"identifier": identifier, "password": password})


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_citizen_signs_up_with_phone_and_logs_in(client, municipality):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "phone": "010-1234-5678",
            "password": "a-long-password",
            "display_name": "홍길동",
            "municipality_id": municipality.id,
            **signup_fields(),
        },
    )
    assert response.status_code == 201
    assert response.json["role"] == "citizen"
    assert response.json["phone"] == "01012345678"
    assert response.json["municipality"]["code"] == municipality.code
    assert "password" not in response.json and "password_hash" not in response.json
    tokens = _login(client, "01012345678", "a-long-password").json
    me = client.get("/api/v1/me", headers=_bearer(tokens["access_token"]))
    assert me.json["display_name"] == "홍길동"


def test_password_is_stored_with_argon2id(ctx, client, municipality):
    client.post(
        "/api/v1/auth/register",
        json={
            "email": "Kim@Example.test",
            "password": "a-long-password",
            "display_name": "김",
            "municipality_id": municipality.id,
            **signup_fields(),
        },
    )
    user = User.query.filter_by(email="kim@example.test").one()
    assert user.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in user.password_hash


def test_duplicate_sign_up_is_409(client, create_user, municipality):
    create_user(email="taken@example.test")
    response = client.post(
        "/api/v1/auth/register",
        json={
            "email": "TAKEN@example.test",
            "password": "a-long-password",
            "display_name": "x",
            "municipality_id": municipality.id,
            **signup_fields(),
        },
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "account_exists"


def test_wrong_password_and_unknown_login_look_the_same(client, create_user):
    create_user(email="known@example.test")
    wrong = _login(client, "known@example.test", "wrong-password")
    unknown = _login(client, "nobody@example.test", "wrong-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.json["error"]["code"] == "invalid_credentials"


def test_repeated_failures_lock_the_account_then_it_unlocks(app, client, create_user, clock):
    create_user(email="victim@example.test")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _login(client, "victim@example.test", "bad-password").status_code == 401
    locked = _login(client, "victim@example.test")  # even the right password is refused now
    assert locked.status_code == 429
    assert locked.json["error"]["code"] == "account_locked"
    assert int(locked.headers["Retry-After"]) > 0
    clock.advance(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1)
    assert _login(client, "victim@example.test").status_code == 200


def test_refresh_gives_a_new_access_token_and_access_token_cannot_refresh(client, create_user):
    create_user(email="r@example.test")
    tokens = _login(client, "r@example.test").json
    refreshed = client.post("/api/v1/auth/refresh", headers=_bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert (
        client.get("/api/v1/me", headers=_bearer(refreshed.json["access_token"])).status_code == 200
    )
    wrong_kind = client.post("/api/v1/auth/refresh", headers=_bearer(tokens["access_token"]))
    assert wrong_kind.status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(tokens["refresh_token"])).status_code == 401


def test_logout_revokes_both_tokens_even_after_a_restart(app, client, create_user):
    from backend import create_app

    create_user(email="out@example.test")
    tokens = _login(client, "out@example.test").json
    assert (
        client.post("/api/v1/auth/logout", headers=_bearer(tokens["access_token"])).status_code
        == 204
    )
    restarted = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8,
        }
    )
    with restarted.test_client() as other:
        me = other.get("/api/v1/me", headers=_bearer(tokens["access_token"]))
        assert me.status_code == 401
        assert me.json["error"]["code"] == "token_revoked"
        again = other.post("/api/v1/auth/refresh", headers=_bearer(tokens["refresh_token"]))
        assert again.status_code == 401


def test_expired_and_forged_tokens_are_refused(app, client, create_user, clock, auth_headers):
    user = create_user()
    headers = auth_headers(user)
    forged = headers["Authorization"][:-4] + "AAAA"
    response = client.get("/api/v1/me", headers={"Authorization": forged})
    assert response.json["error"]["code"] == "token_invalid"
    now = int(time.time())
    expired = pyjwt.encode(
        {"sub": user.id, "sid": "x", "type": "access", "iat": now - 60, "exp": now - 10},
        app.config["JWT_SECRET_KEY"],
        algorithm="HS256",
    )
    response = client.get("/api/v1/me", headers=_bearer(expired))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"
    # Signed with another key, unsigned ("none"), or without the token type: all refused.
    claims = {"sub": user.id, "sid": "x", "type": "access", "exp": now + 600}
    others = [
        pyjwt.encode(claims, "another-key-of-thirty-two-bytes!!", algorithm="HS256"),
        pyjwt.encode(claims, None, algorithm="none"),
        pyjwt.encode({**claims, "type": None}, app.config["JWT_SECRET_KEY"], algorithm="HS256"),
        pyjwt.encode({**claims, "type": "id"}, app.config["JWT_SECRET_KEY"], algorithm="HS256"),
    ]
    for token in others:
        response = client.get("/api/v1/me", headers=_bearer(token))
        assert response.status_code == 401
        assert response.json["error"]["code"] == "token_invalid"


def test_demotion_takes_effect_on_the_next_request(client, as_role, create_user):
    official, official_headers = as_role(Role.OFFICIAL)
    _admin, admin_headers = as_role(Role.ADMIN)
    assert client.get("/api/v1/users", headers=official_headers).status_code == 200
    demoted = client.patch(
        f"/api/v1/users/{official.id}", headers=admin_headers, json={"role": "citizen"}
    )
    assert demoted.status_code == 200 and demoted.json["role"] == "citizen"
    assert client.get("/api/v1/users", headers=official_headers).status_code == 403


def test_token_of_a_deleted_user_is_refused(client, as_role, ctx):
    citizen, citizen_headers = as_role(Role.CITIZEN)
    _admin, admin_headers = as_role(Role.ADMIN)
    assert client.delete(f"/api/v1/users/{citizen.id}", headers=admin_headers).status_code == 204
    response = client.get("/api/v1/me", headers=citizen_headers)
    assert response.status_code == 401
    sessions = AuthSession.query.filter_by(user_id=citizen.id).all()
    assert sessions and all(s.revoked_at is not None for s in sessions)


def test_authorization_header_shapes_get_the_usual_answers(client, create_user, auth_headers):
    token = auth_headers(create_user())["Authorization"].split()[1]
    cases = {
        None: "token_missing",
        f"Basic {token}": "token_missing",
        f"Bearer {token} extra": "token_invalid",
        "Bearer not-a-jwt": "token_invalid",
    }
    for header, code in cases.items():
        headers = {} if header is None else {"Authorization": header}
        for keyed in ({}, {"Idempotency-Key": "k-1"}):
            response = client.post(
                "/api/v1/activities/x/participations", json={}, headers=headers | keyed
            )
            assert response.status_code == 401, (header, keyed)
            assert response.json["error"]["code"] == code, (header, keyed)
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200


def test_a_keyed_post_with_a_refresh_token_is_refused(client, create_user):
    create_user(email="k@example.test")
    tokens = _login(client, "k@example.test").json
    response = client.post(
        "/api/v1/activities/x/participations",
        json={},
        headers=_bearer(tokens["refresh_token"]) | {"Idempotency-Key": "k-2"},
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_invalid"
