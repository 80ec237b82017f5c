"""Issuing, renewing, re-issuing, revoking and expiring certificates (services, no HTTP)."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from backend import events
from backend.certification import services
from backend.certification.keys import build_jwks
from backend.certification.models import (
    Benefit,
    Certificate,
    CertificateKind,
    CertificateSigningKey,
    CertificateStatus,
    IssueReason,
    KeyStatus,
)
from backend.certification.token import VerificationStatus, b64url_decode, parse_token
from backend.clock import SEOUL, utcnow
from backend.errors import Conflict, RuleViolation
from backend.extensions import db
from backend.permissions import Role


@pytest.fixture
def citizen(create_user):
    return create_user(
        Role.CITIZEN, display_name="홍길동", email="hong@example.test", phone="01012345678"
    )


@pytest.fixture
def official(create_user):
    return create_user(Role.OFFICIAL)


def certificates_of(user) -> list[Certificate]:
    return list(
        db.session.scalars(
            sa.select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
        )
    )


def names(published) -> list[str]:
    return [name for name, _payload in published]


def test_meeting_the_criteria_issues_a_certificate_in_the_confirming_transaction(
    clock, citizen, create_criteria, participations, published
):
    create_criteria(min_participations=3, min_stages=2)
    participations.confirm(citizen, stage="decide")
    participations.confirm(citizen, stage="decide")
    db.session.commit()
    assert certificates_of(citizen) == []

    participations.confirm(citizen, stage="evaluate")
    # Not committed yet: the certificate exists only inside the confirming transaction.
    assert len(certificates_of(citizen)) == 1
    db.session.rollback()
    assert certificates_of(citizen) == []

    participations.confirm(citizen, stage="evaluate")
    db.session.commit()
    [certificate] = certificates_of(citizen)
    assert certificate.issue_reason == IssueReason.CRITERIA
    assert certificate.issued_by_id is None
    assert certificate.benefits == [b.value for b in Benefit]
    issued = [payload for name, payload in published if name == events.CERTIFICATE_ISSUED]
    assert set(issued[-1]) == {"certificate_id", "user_id", "municipality_id", "expires_at"}
    assert issued[-1]["certificate_id"] == certificate.id

    for stage in ("plan", "implement"):
        participations.confirm(citizen, stage=stage)
    db.session.commit()
    assert len(certificates_of(citizen)) == 1  # one active certificate, not one per confirmation


def test_progress_shows_what_is_met_and_what_is_missing(
    clock, citizen, create_criteria, participations
):
    create_criteria(min_participations=3, min_stages=3)
    for _ in range(3):
        participations.confirm(citizen, stage="implement")
    db.session.commit()
    [progress] = services.progress_for(user=citizen)
    requirements = {r.name: r for r in progress.requirements}
    assert requirements["participations"].met
    assert not requirements["stages"].met
    assert requirements["stages"].missing == ("plan", "decide", "evaluate")
    assert not progress.met and progress.certificate is None
    assert progress.window_start.astimezone(SEOUL).date() == date(2025, 3, 2)


def test_participations_outside_the_window_do_not_count(
    clock, citizen, create_criteria, participations
):
    create_criteria(min_participations=2, min_stages=1, window_months=6)
    participations.confirm(citizen, confirmed_at=utcnow() - timedelta(days=200))
    participations.confirm(citizen)
    db.session.commit()
    assert certificates_of(citizen) == []


def test_an_official_nominates_where_allowed(clock, citizen, official, create_criteria):
    criteria = create_criteria(min_participations=50)
    certificate = services.issue_certificate(
        user=citizen, kind=CertificateKind.MODEL_CITIZEN, actor=official
    )
    assert certificate.issue_reason == IssueReason.NOMINATION
    assert certificate.issued_by_id == official.id
    with pytest.raises(Conflict) as twice:
        services.issue_certificate(user=citizen, kind=CertificateKind.MODEL_CITIZEN, actor=official)
    assert twice.value.code == "certificate_exists"

    # No criteria for a kind: officials issue it at their discretion.
    committee = services.issue_certificate(
        user=citizen, kind=CertificateKind.COMMITTEE_MEMBER, actor=official
    )
    assert committee.issue_reason == IssueReason.NOMINATION and committee.benefits == []
    assert criteria.nomination_allowed


def test_nomination_refused_when_the_criteria_forbid_it(
    clock, create_user, official, create_criteria
):
    create_criteria(min_participations=50, nomination_allowed=False)
    with pytest.raises(RuleViolation) as refused:
        services.issue_certificate(
            user=create_user(Role.CITIZEN), kind=CertificateKind.MODEL_CITIZEN, actor=official
        )
    assert refused.value.code == "criteria_not_met"


def test_the_token_holds_only_what_the_issue_allows(clock, citizen, create_certificate):
    certificate = create_certificate(citizen)
    parsed = parse_token(certificate.token)
    claims = parsed.claims
    assert parsed.header == {"alg": "ES256", "kid": certificate.key_kid}
    assert claims.issuer == citizen.municipality.code
    assert claims.certificate_id == certificate.public_id != certificate.id
    assert claims.holder == "홍*동"
    assert claims.kind == "model_citizen"
    assert claims.revocation_index == certificate.revocation_index
    assert claims.issued_at == int(certificate.issued_at.timestamp())
    assert claims.expires_at == int(certificate.expires_at.timestamp())
    payload = b64url_decode(certificate.token.split(".")[1]).decode()
    for secret in (citizen.id, citizen.email, citizen.phone, "홍길동", certificate.serial_number):
        assert secret not in payload
    assert re.fullmatch(r"11680-2026-\d{6}", certificate.serial_number)
    assert certificate.valid_until == date(2028, 3, 1)


def test_serial_numbers_count_up_per_municipality_and_year(clock, create_user, create_certificate):
    serials = [create_certificate(create_user(Role.CITIZEN)).serial_number for _ in range(3)]
    assert serials == ["11680-2026-000001", "11680-2026-000002", "11680-2026-000003"]


def test_revocation_is_recorded_announced_and_final(
    clock, citizen, official, create_certificate, published
):
    certificate = create_certificate(citizen)
    version = services.registry().ensure_fresh(utcnow()).version
    services.revoke_certificate(certificate=certificate, actor=official, reason="부정 사용")
    db.session.commit()
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revocation_reason == "부정 사용"
    assert published[-1] == (
        events.CERTIFICATE_REVOKED,
        {
            "certificate_id": certificate.id,
            "user_id": citizen.id,
            "municipality_id": citizen.municipality_id,
            "reason": "부정 사용",
        },
    )
    services.registry().refresh(utcnow())
    assert services.registry().snapshot.version > version
    with pytest.raises(RuleViolation) as again:
        services.revoke_certificate(certificate=certificate, actor=official, reason="x")
    assert again.value.code == "certificate_revoked"


def test_reissue_after_loss_revokes_the_old_and_keeps_the_terms(
    clock, citizen, create_certificate, published
):
    old = create_certificate(citizen, benefits=[Benefit.PRIORITY_MEETING_ACCESS])
    clock.advance(days=10)
    new = services.reissue_certificate(certificate=old, actor=citizen, reason="휴대폰 분실")
    db.session.commit()
    assert old.status == CertificateStatus.REVOKED and "휴대폰 분실" in old.revocation_reason
    assert new.replaces_id == old.id and new.issue_reason == IssueReason.REISSUE
    assert new.expires_at == old.expires_at and new.benefits == old.benefits
    assert new.public_id != old.public_id and new.revocation_index != old.revocation_index
    assert new.serial_number != old.serial_number and new.token != old.token
    assert names(published)[-1] == events.CERTIFICATE_ISSUED
    assert events.CERTIFICATE_REVOKED not in names(published)
    with pytest.raises(RuleViolation):
        services.reissue_certificate(certificate=old, actor=citizen, reason="again")


def test_holders_renew_near_the_expiry_if_they_still_meet_the_criteria(
    clock, citizen, create_criteria, participations
):
    create_criteria(
        min_participations=2, min_stages=1, window_months=6, validity_months=12, auto_issue=False
    )
    participations.confirm(citizen)
    participations.confirm(citizen)
    certificate = services.issue_certificate(
        user=citizen, kind=CertificateKind.MODEL_CITIZEN, actor=None
    )
    db.session.commit()
    first_token, first_expiry = certificate.token, certificate.expires_at
    with pytest.raises(RuleViolation) as early:
        services.renew_certificate(certificate=certificate, actor=citizen)
    assert early.value.code == "renewal_not_open"

    clock.set(first_expiry - timedelta(days=30))
    with pytest.raises(RuleViolation) as unmet:  # the participations are now 11 months old
        services.renew_certificate(certificate=certificate, actor=citizen)
    assert unmet.value.code == "criteria_not_met"
    participations.confirm(citizen)
    participations.confirm(citizen)
    services.renew_certificate(certificate=certificate, actor=citizen)
    db.session.commit()
    assert certificate.expires_at.astimezone(SEOUL).date() == date(2028, 3, 2)
    assert certificate.token != first_token
    first, renewed = parse_token(first_token).claims, parse_token(certificate.token).claims
    assert (renewed.certificate_id, renewed.revocation_index, renewed.issued_at) == (
        first.certificate_id,
        first.revocation_index,
        first.issued_at,
    )


def test_officials_renew_expired_certificates(clock, citizen, official, create_certificate):
    certificate = create_certificate(citizen)
    clock.set(certificate.expires_at + timedelta(days=3))
    assert certificate.current_status == CertificateStatus.EXPIRED
    services.renew_certificate(certificate=certificate, actor=official)
    assert certificate.current_status == CertificateStatus.ACTIVE
    assert certificate.expires_at > utcnow() + timedelta(days=700)


def test_an_active_certificate_near_its_expiry_is_renewed_by_a_confirmation(
    clock, citizen, create_criteria, participations, create_certificate
):
    create_criteria(min_participations=1, min_stages=1)
    certificate = create_certificate(citizen)
    old_expiry = certificate.expires_at
    clock.set(old_expiry - timedelta(days=20))
    participations.confirm(citizen)
    db.session.commit()
    assert len(certificates_of(citizen)) == 1
    assert certificate.expires_at > old_expiry


def test_expire_marks_and_announces_once(app, clock, create_user, create_certificate, published):
    soon = create_certificate(create_user(Role.CITIZEN))
    later = create_certificate(create_user(Role.CITIZEN))
    db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == soon.id)
        .values(expires_at=utcnow() + timedelta(days=10))
    )
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["certificates", "expire"])
    assert first.exit_code == 0, first.output
    assert "announced 1" in first.output
    expiring = [p for n, p in published if n == events.CERTIFICATE_EXPIRING]
    assert [p["certificate_id"] for p in expiring] == [soon.id]
    assert "announced 0" in runner.invoke(args=["certificates", "expire"]).output

    clock.advance(days=11)
    assert "Marked 1" in runner.invoke(args=["certificates", "expire"]).output
    db.session.expire_all()
    assert db.session.get(Certificate, soon.id).status == CertificateStatus.EXPIRED
    assert db.session.get(Certificate, later.id).status == CertificateStatus.ACTIVE


def test_what_other_domains_ask(clock, citizen, create_user, create_certificate):
    today = utcnow().astimezone(SEOUL).date()
    assert not services.has_active_certificate(user_id=citizen.id, on=today)
    certificate = create_certificate(citizen, benefits=[Benefit.COMMITTEE_ELIGIBILITY])
    assert services.has_active_certificate(user_id=citizen.id, on=today)
    assert services.has_active_certificate(user_id=citizen.id, on=certificate.valid_until)
    assert not services.has_active_certificate(
        user_id=citizen.id, on=certificate.valid_until + timedelta(days=1)
    )
    assert not services.has_active_certificate(user_id=citizen.id, on=today - timedelta(days=1))
    assert not services.has_active_certificate(
        user_id=citizen.id, on=today, kind=CertificateKind.COMMITTEE_MEMBER
    )
    assert services.certificate_benefits(user_id=citizen.id, on=today) == {
        Benefit.COMMITTEE_ELIGIBILITY
    }
    assert services.has_certificate_benefit(
        user_id=citizen.id, benefit="committee_eligibility", on=today
    )
    assert not services.has_certificate_benefit(
        user_id=citizen.id, benefit=Benefit.PRIORITY_MEETING_ACCESS, on=today
    )
    services.revoke_certificate(certificate=certificate, actor=None, reason="x")
    assert not services.has_active_certificate(user_id=citizen.id, on=today)
    assert services.certificate_benefits(user_id=citizen.id, on=today) == frozenset()


def test_rotation_keeps_old_certificates_verifiable_until_they_expire(
    app, clock, create_user, create_certificate, caplog
):
    caplog.set_level(logging.DEBUG)
    old = create_certificate(create_user(Role.CITIZEN))
    result = app.test_cli_runner().invoke(args=["certificates", "rotate-keys"])
    assert result.exit_code == 0, result.output
    new = create_certificate(create_user(Role.CITIZEN))
    assert new.key_kid != old.key_kid

    registry = services.registry()
    now = utcnow()
    assert registry.check(old.token, now).status == VerificationStatus.VALID
    assert registry.check(new.token, now).status == VerificationStatus.VALID
    kids = [key["kid"] for key in services.jwks_document()["keys"]]
    assert set(kids) == {old.key_kid, new.key_kid}

    keys = list(db.session.scalars(sa.select(CertificateSigningKey)))
    assert {key.status for key in keys} == {KeyStatus.ACTIVE, KeyStatus.RETIRED}
    # After the old key's last certificate expired it leaves the JWKS (still known for `expired`).
    clock.set(old.expires_at + timedelta(days=1))
    registry.refresh(utcnow(), force=True)
    assert [key["kid"] for key in services.jwks_document()["keys"]] == [new.key_kid]
    assert registry.check(old.token, utcnow()).status == VerificationStatus.EXPIRED

    # Private keys: encrypted in the database, never in the JWKS, the CLI output or the logs.
    for key in keys:
        assert key.encrypted_private_key.startswith("cpk1.")
        assert "PRIVATE" not in key.encrypted_private_key
        private = registry.signing_key(key.kid, key.encrypted_private_key).private_key
        scalar = private.private_numbers().private_value.to_bytes(32, "big")
        assert scalar.hex() not in key.encrypted_private_key
        for text in (result.output, caplog.text, json.dumps(build_jwks([key.public_jwk]))):
            assert scalar.hex() not in text and '"d"' not in text
        assert set(key.public_jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}


def test_seed_demo_sets_up_rewards_and_a_verifiable_certificate(app, ctx):
    from backend.rewards.models import RewardBudget, RewardRule

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # idempotent
    [certificate] = db.session.scalars(sa.select(Certificate)).all()
    assert certificate.holder.email == "citizen1@gangnam.example"
    assert services.verify_text(certificate.token)["status"] == "valid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RewardRule)) == 8
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RewardBudget)) == 2
