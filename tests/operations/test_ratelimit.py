"""One rate-limit interface; counted in memory, or in Redis shared by every server."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis

from backend import ratelimit
from backend.permissions import Role

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def shared_app(app, monkeypatch):
    """The app counting in Redis under a prefix of its own (Redis is shared on this machine)."""
    if not _redis_up():
        pytest.fail("Redis is expected at 127.0.0.1:6379 (CI starts it)")
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "RATE_LIMIT_PREFIX", f"test-{uuid.uuid4().hex}")
    ratelimit.reset(app)
    yield app
    ratelimit.reset(app)


def test_memory_window_limits_per_key(app):
    ratelimit.reset(app)
    limiter = ratelimit.limiter(app, "test-memory", amount=3, seconds=60)
    assert [limiter.retry_after("a") for _ in range(3)] == [0, 0, 0]
    wait = limiter.retry_after("a")
    assert 1 <= wait <= 60
    assert limiter.retry_after("b") == 0
    ratelimit.reset(app)


def test_redis_limit_is_shared_by_two_servers(shared_app):
    """Two apps (two servers) with the same Redis and prefix count the same hits."""
    from backend import create_app

    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": shared_app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_PREFIX": shared_app.config["RATE_LIMIT_PREFIX"],
        }
    )
    one = ratelimit.limiter(shared_app, "test-shared", amount=4, seconds=60)
    two = ratelimit.limiter(other, "test-shared", amount=4, seconds=60)
    assert [one.retry_after("k"), two.retry_after("k"), one.retry_after("k")] == [0, 0, 0]
    assert two.retry_after("k") == 0
    assert one.retry_after("k") >= 1 and two.retry_after("k") >= 1
    assert one.retry_after("other-key") == 0


def test_unreachable_redis_lets_requests_through_and_readyz_says_so(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    ratelimit.reset(app)
    try:
        limiter = ratelimit.limiter(app, "test-down", amount=1, seconds=60)
        assert [limiter.retry_after("k") for _ in range(3)] == [0, 0, 0]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json == {"status": "redis_unreachable"}
    finally:
        ratelimit.reset(app)


def test_readyz_is_ok_with_a_reachable_redis(shared_app, client):
    assert client.get("/readyz").json == {"status": "ok"}


def test_verification_limit_is_shared_through_redis(shared_app, client, monkeypatch):
    monkeypatch.setitem(shared_app.config, "CERTIFICATE_VERIFY_FAST_PATH", False)
    monkeypatch.setitem(shared_app.config, "CERTIFICATE_VERIFY_RATE", 1.0)
    monkeypatch.setitem(shared_app.config, "CERTIFICATE_VERIFY_BURST", 2)
    shared_app.extensions.pop("certificate_verify_limiter", None)
    statuses = [
        client.post("/api/v1/certificates/verify", json={"text": "x"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    shared_app.extensions.pop("certificate_verify_limiter", None)


def test_check_in_code_guessing_is_limited(app, client, as_role, clock, monkeypatch):
    monkeypatch.setitem(app.config, "CHECK_IN_GUESS_LIMIT", 3)
    ratelimit.reset(app)
    _official, staff = as_role(Role.OFFICIAL)
    _citizen, headers = as_role(Role.CITIZEN)
    project = client.post(
        "/api/v1/projects",
        json={
            "title": "안심 귀갓길",
            "field": "safety",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "status": "active",
        },
        headers=staff,
    ).json
    start = clock.now + timedelta(minutes=10)
    activity = client.post(
        f"/api/v1/projects/{project['id']}/activities",
        json={
            "stage": "plan",
            "kind": "workshop",
            "title": "워크숍",
            "place": "구청",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        },
        headers=staff,
    ).json
    url = f"/api/v1/activities/{activity['id']}/check-in"
    client.post(f"/api/v1/activities/{activity['id']}/participations", json={}, headers=headers)
    code = client.get(f"/api/v1/activities/{activity['id']}/check-in-code", headers=staff).json
    wrong = f"{(int(code['code']) + 1) % 1_000_000:06d}"
    guesses = [client.post(url, json={"code": wrong}, headers=headers) for _ in range(3)]
    assert [g.status_code for g in guesses] == [422, 422, 422]
    blocked = client.post(url, json={"code": code["code"]}, headers=headers)
    assert blocked.status_code == 429 and blocked.json["error"]["code"] == "rate_limited"
    assert int(blocked.headers["Retry-After"]) >= 1
    ratelimit.reset(app)
