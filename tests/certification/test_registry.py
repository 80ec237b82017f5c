"""Verification from memory: no database round trip per scan, revocations everywhere within
the refresh interval, signed status lists, and the per-client rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from backend.certification import services
from backend.certification.keys import public_keys_from_jwks
from backend.certification.ratelimit import TokenBucketLimiter
from backend.certification.registry import VerificationRegistry
from backend.certification.status_list import read_status_list
from backend.certification.token import VerificationStatus, check_token, encode_qr_text
from backend.clock import utcnow
from backend.extensions import db
from backend.permissions import Role
from tests.fixtures.core import FakeClock


@pytest.fixture
def certificate(clock, create_user, create_certificate):
    return create_certificate(create_user(Role.CITIZEN, display_name="홍길동"))


class StatementCounter:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


def test_scans_cost_no_database_round_trip(certificate):
    registry = services.registry()
    now = utcnow()
    registry.ensure_fresh(now)
    text = encode_qr_text(certificate.token)
    with StatementCounter(db.engine) as counter:
        for _ in range(200):
            result = registry.check(text, now)
            assert result.status == VerificationStatus.VALID
            services.verification_answer(result, now)
    assert counter.count == 0


def test_the_version_is_read_at_most_once_per_interval(certificate, clock):
    registry = services.registry()
    registry.ensure_fresh(utcnow())
    token = certificate.token
    with StatementCounter(db.engine) as counter:
        for _ in range(50):
            clock.advance(milliseconds=100)  # 5 s in all, over 50 scans
            registry.check(token, utcnow())
    assert counter.count == 2  # one tiny SELECT per 2 s, nothing else (the version did not move)


@pytest.mark.real_commits  # a second app
def test_a_revocation_reaches_another_server_within_the_refresh_interval(app, clock, certificate):
    """Two app instances share the database; each keeps its own memory, as two workers do."""
    from backend import create_app

    other = create_app(
        {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True}
    )
    other_clock = FakeClock(clock.now)
    other.extensions["clock"] = other_clock
    interval = other.config["CERTIFICATE_REFRESH_SECONDS"]
    assert interval <= 5  # the guarantee: every worker within 5 seconds

    def scan_on_other() -> str:
        with other.app_context():
            return services.verify_text(certificate.token)["status"]

    assert scan_on_other() == "valid"
    services.revoke_certificate(certificate=certificate, actor=None, reason="분실")
    db.session.commit()
    assert services.verify_text(certificate.token)["status"] == "revoked"  # the revoking server

    other_clock.advance(seconds=interval - 0.5)
    assert scan_on_other() == "valid"  # still within its interval: answered from memory
    other_clock.advance(seconds=0.5)
    assert scan_on_other() == "revoked"
    with other.app_context():
        db.engine.dispose()


@pytest.mark.real_commits  # a second app
def test_a_key_rotation_reaches_another_server(app, clock, create_user, create_certificate):
    from backend import create_app

    first = create_certificate(create_user(Role.CITIZEN))
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    other_clock = FakeClock(clock.now)
    other.extensions["clock"] = other_clock
    with other.app_context():
        assert services.verify_text(first.token)["status"] == "valid"
    services.rotate_signing_keys(actor=None)
    db.session.commit()
    second = create_certificate(create_user(Role.CITIZEN))
    other_clock.advance(seconds=2)
    with other.app_context():
        assert services.verify_text(second.token)["status"] == "valid"
        assert services.verify_text(first.token)["status"] == "valid"
        db.engine.dispose()


def test_a_database_outage_keeps_answering_from_memory(certificate, clock, monkeypatch):
    registry = services.registry()
    registry.ensure_fresh(utcnow())

    def unreachable(_connection: object) -> int:
        raise OperationalError("SELECT version", {}, Exception("database is down"))

    monkeypatch.setattr(VerificationRegistry, "_read_version", staticmethod(unreachable))
    clock.advance(seconds=10)
    assert registry.check(certificate.token, utcnow()).status == VerificationStatus.VALID


def test_status_lists_are_signed_per_issuer_and_follow_revocations(
    clock, create_municipality, create_user, create_certificate
):
    suwon = create_municipality(code="41110", name="수원시")
    gangnam_holder = create_user(Role.CITIZEN)
    revoked = create_certificate(gangnam_holder)
    kept = create_certificate(create_user(Role.CITIZEN, municipality=suwon))
    services.revoke_certificate(certificate=revoked, actor=None, reason="x")
    db.session.commit()

    keys = public_keys_from_jwks(services.jwks_document())
    lists = {
        found.issuer: found
        for found in (read_status_list(token, keys) for token in services.revocation_lists())
    }
    assert set(lists) == {"11680", "41110"}
    assert lists["11680"].is_revoked(revoked.revocation_index)
    assert not lists["41110"].is_revoked(kept.revocation_index)
    assert lists["11680"].revoked_count == 1 and lists["41110"].revoked_count == 0
    assert lists["11680"].ttl_seconds == 24 * 3600
    assert abs((lists["11680"].issued_at - utcnow()).total_seconds()) <= 1
    [only] = services.revocation_lists(issuer="41110")
    assert read_status_list(only, keys).issuer == "41110"
    assert services.revocation_lists(issuer="99999") == []

    # What an offline verifier does with the cached list and keys:
    offline = check_token(
        encode_qr_text(revoked.token),
        public_keys=keys,
        is_revoked=lambda issuer, index: lists[issuer].is_revoked(index),
        now=utcnow(),
    )
    assert offline.status == VerificationStatus.REVOKED


def test_status_lists_are_re_signed_when_due(certificate, clock):
    first = services.revocation_lists()
    assert services.revocation_lists() == first  # cached between requests
    clock.advance(seconds=61)
    assert services.revocation_lists() != first
    services.revoke_certificate(certificate=certificate, actor=None, reason="x")
    db.session.commit()
    clock.advance(seconds=2)
    second = services.revocation_lists()
    keys = public_keys_from_jwks(services.jwks_document())
    assert read_status_list(second[0], keys).is_revoked(certificate.revocation_index)


def test_no_key_yet_means_no_lists_and_an_empty_jwks(app, ctx, clock, municipality):
    assert services.jwks_document() == {"keys": []}
    assert services.revocation_lists() == []


# ---- the rate limiter -----------------------------------------------------------------------


def test_token_bucket_allows_bursts_then_the_sustained_rate():
    now = [100.0]
    limiter = TokenBucketLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.retry_after("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("a") == 1
    assert limiter.retry_after("b") == 0  # per client
    now[0] += 0.5
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("a") >= 1


def test_token_bucket_memory_is_bounded():
    limiter = TokenBucketLimiter(rate=1, burst=1, max_keys=100, clock=lambda: 0.0)
    for number in range(1000):
        limiter.retry_after(f"10.0.{number // 256}.{number % 256}")
    assert len(limiter._buckets) == 100


def test_a_rate_of_zero_disables_limiting():
    limiter = TokenBucketLimiter(rate=0, burst=1)
    assert all(limiter.retry_after("a") == 0 for _ in range(100))


def test_stale_clock_going_backwards_still_refreshes(certificate, clock):
    registry = services.registry()
    registry.ensure_fresh(utcnow())
    checked = registry.checked_at
    clock.set(utcnow() - timedelta(hours=1))
    registry.ensure_fresh(utcnow())
    assert registry.checked_at != checked


def test_a_new_municipality_gets_its_status_list_within_a_minute(
    certificate, clock, create_municipality
):
    assert len(services.revocation_lists()) == 1
    create_municipality(code="26110", name="부산 중구")
    clock.advance(seconds=61)
    assert len(services.revocation_lists()) == 2
