"""The login lock-out holds under parallel attempts and does not tell which accounts exist."""

from __future__ import annotations

from collections import Counter

import pytest

from backend.identity import services
from tests.concurrency import in_parallel
from tests.fixtures.identity import PASSWORD

WRONG = "wrong-password-0"


def _login(client, identifier: str, password: str = WRONG):
    return client.post("/api/v1/auth/login", json={"identifier": identifier, "password": password})


@pytest.mark.parametrize("who", ["known@example.test", "nobody@example.test", "01099998888"])
@pytest.mark.real_commits  # threads, each with its own connection
def test_twenty_parallel_wrong_passwords_check_at_most_the_limit(
    app, client, create_user, monkeypatch, who
):
    create_user(email="known@example.test")
    checked = Counter()
    verify, burn = services.verify_password, services.burn_verification_time
    monkeypatch.setattr(services, "verify_password", lambda *a: checked.update(["v"]) or verify(*a))
    monkeypatch.setattr(
        services, "burn_verification_time", lambda *a: checked.update(["v"]) or burn(*a)
    )
    limit = app.config["LOGIN_MAX_FAILURES"]
    responses = in_parallel(app, 20, lambda c, _slot: _login(c, who))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {401: limit, 429: 20 - limit}, statuses
    assert checked["v"] == limit
    # Still locked afterwards, even with the right password.
    assert _login(client, who, PASSWORD).status_code == 429


def test_unknown_and_known_logins_are_indistinguishable_locked_or_not(
    app, client, create_user, clock, monkeypatch
):
    create_user(email="known@example.test")
    verifications = Counter()
    verify, burn = services.verify_password, services.burn_verification_time
    monkeypatch.setattr(
        services, "verify_password", lambda *a: verifications.update(["known"]) or verify(*a)
    )
    monkeypatch.setattr(
        services, "burn_verification_time", lambda *a: verifications.update(["unknown"]) or burn(*a)
    )
    limit = app.config["LOGIN_MAX_FAILURES"]

    def attempt(identifier: str):
        response = _login(client, identifier)
        return response.status_code, response.json, response.headers.get("Retry-After")

    for _ in range(limit):
        assert attempt("known@example.test") == attempt("nobody@example.test")
    # The same work (one Argon2 verification each) answered every wrong password.
    assert verifications == {"known": limit, "unknown": limit}
    known, unknown = attempt("known@example.test"), attempt("nobody@example.test")
    assert known == unknown
    assert known[0] == 429 and known[1]["error"]["code"] == "account_locked"
    assert int(known[2]) > 0
    # Locked: no password is checked for either.
    assert verifications == {"known": limit, "unknown": limit}
    clock.advance(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1)
    assert attempt("known@example.test")[0] == attempt("nobody@example.test")[0] == 401


def test_the_right_password_resets_the_count(app, client, create_user):
    create_user(email="known@example.test")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert _login(client, "known@example.test").status_code == 401
    assert _login(client, "known@example.test", PASSWORD).status_code == 200
    for _ in range(limit - 1):
        assert _login(client, "known@example.test").status_code == 401
    assert _login(client, "known@example.test", PASSWORD).status_code == 200


def test_unknown_logins_are_not_stored_in_clear(app, client):
    import sqlalchemy as sa

    from backend.extensions import db
    from backend.identity.models import LoginThrottle

    _login(client, "Secret.Person@Example.test")
    keys = db.session.scalars(sa.select(LoginThrottle.key)).all()
    assert len(keys) == 1 and "secret" not in keys[0].lower()
    _login(client, "secret.person@example.test  ")  # the same login, normalised
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 1
