"""Committees against the real certification domain (no stand-in for `has_active_certificate`):
a certificate issued by an official opens a certificate-only committee and the certified tier
of a meeting's priority window; once revoked, it opens neither."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.certification import services as certification
from backend.clock import utcnow
from backend.committees import services
from backend.committees.models import AppointmentRole, PriorityTier, RegistrationStatus
from backend.errors import RuleViolation
from backend.extensions import db
from backend.permissions import Role

TODAY = date(2026, 3, 2)  # the clock fixture's day in Seoul


@pytest.fixture
def official(create_user):
    return create_user(Role.OFFICIAL)


def _appoint(official, committee, user):
    appointment = services.appoint_member(
        actor=official,
        committee=committee,
        user_id=user.id,
        role=AppointmentRole.MEMBER,
        term_start=TODAY,
    )
    db.session.commit()
    return appointment


def test_a_real_certificate_opens_a_certificate_only_committee(
    clock, official, create_user, create_committee, create_certificate
):
    committee = create_committee(requires_certificate=True)
    holder, revoked, citizen = create_user(), create_user(), create_user()
    create_certificate(holder)
    certificate = create_certificate(revoked)
    certification.revoke_certificate(certificate=certificate, actor=official, reason="오발급")
    db.session.commit()

    assert _appoint(official, committee, holder).user_id == holder.id
    for refused in (revoked, citizen):
        with pytest.raises(RuleViolation) as caught:
            _appoint(official, committee, refused)
        assert caught.value.code == "certificate_required"


def test_a_real_certificate_gives_the_certified_tier(
    clock, create_user, create_committee, create_meeting, register, create_certificate
):
    now = utcnow()
    meeting = create_meeting(
        create_committee(),
        priority_opens_at=now,
        general_opens_at=now + timedelta(hours=1),
        starts_at=now + timedelta(hours=3),
    )
    certified, citizen = create_user(), create_user()
    create_certificate(certified)

    registration = register(meeting, certified)
    assert (registration.status, registration.tier) == (
        RegistrationStatus.CONFIRMED,
        PriorityTier.CERTIFIED,
    )
    with pytest.raises(RuleViolation) as caught:
        register(meeting, citizen)
    assert caught.value.code == "registration_priority_only"
