"""With the database unreachable, every endpoint that needs it answers 503 in the error shape
(with Retry-After), never a 500: one app on a PostgreSQL server that refuses connections, one on
an SQLite file that cannot be opened. (Certificate verification, served from memory, is not
asserted here.)"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from backend import create_app
from backend.api.auth import issue_tokens
from backend.ids import new_id
from tests.privacy.signup import signup_fields

#: Routes that need no database at all (the consent texts are part of the code).
WITHOUT_DATABASE = {"/api/v1/openapi.json", "/healthz", "/api/v1/consent-texts"}


def _down_app(url: str):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {}}
            if url.startswith("sqlite")
            else {"connect_args": {"connect_timeout": 2}},
        }
    )


@pytest.fixture(
    params=["postgresql+psycopg2://postgres@127.0.0.1:9/nowhere", "sqlite:///{tmp}/no/such/dir.db"],
    ids=["postgresql", "sqlite"],
)
def down_app(request, tmp_path):
    return _down_app(request.param.format(tmp=tmp_path))


def _assert_unavailable(response, where: str) -> None:
    assert response.status_code == 503, (where, response.status_code, response.get_data(True))
    assert response.json["error"]["code"] == "service_unavailable", where
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert response.headers["Retry-After"] == "5"


def test_every_get_endpoint_answers_503_when_the_database_is_gone(down_app):
    client = down_app.test_client()
    with down_app.app_context():
        # A well-signed token, so every endpoint gets as far as the database.
        token = issue_tokens(SimpleNamespace(id=new_id()), SimpleNamespace(id=new_id()))[
            "access_token"
        ]
    headers = {"Authorization": f"Bearer {token}"}
    checked = 0
    for rule in down_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule in WITHOUT_DATABASE:
            continue
        if not rule.rule.startswith("/api/v1") or rule.rule.endswith("/verify"):
            continue
        path = re.sub(
            r"<(?:[a-z_]+:)?([a-z_]+)>",
            lambda m: "plan" if m[1] == "stage" else new_id(),
            rule.rule,
        )
        _assert_unavailable(client.get(path, headers=headers), path)
        checked += 1
    assert checked > 40


def test_public_writes_answer_503_when_the_database_is_gone(down_app):
    client = down_app.test_client()
    _assert_unavailable(
        client.post("/api/v1/auth/login", json={"identifier": "a@b.cd", "password": "x" * 10}),
        "login",
    )
    _assert_unavailable(
        client.post(
            "/api/v1/auth/register",
            json={
                "email": "new@example.test",
                "password": "a-long-password",
                "display_name": "홍길동",
                "municipality_id": new_id(),
                **signup_fields(),
            },
        ),
        "register",
    )
