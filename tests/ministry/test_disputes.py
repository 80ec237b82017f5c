"""The mediation committee and dispute cases: filing, visibility, the state machine, mediators
who are parties, hearings, deadline reminders, and the events that tell the parties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backend import events
from backend.audit.models import AuditEntry
from backend.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.ministry import services
from backend.ministry.models import DisputeState, MemberRole, Qualification
from backend.permissions import Role


def test_committee_qualifications_and_a_single_chair(clock, analyst, create_user, create_member):
    with pytest.raises(ValidationFailed) as junior:
        create_member(create_user(Role.CITIZEN), qualification="practitioner", years=9)
    assert junior.value.code == "qualification_unmet"
    with pytest.raises(ValidationFailed):
        create_member(create_user(Role.CITIZEN), qualification="senior_official")
    create_member(create_user(Role.CITIZEN), qualification="practitioner", years=12)
    create_member(role="chair")
    with pytest.raises(RuleViolation) as caught:
        services.add_committee_member(
            actor=analyst,
            user_id=create_user(Role.ANALYST).id,
            role=MemberRole.CHAIR,
            qualification=Qualification.SENIOR_OFFICIAL,
            affiliation="행정안전부",
        )
    assert caught.value.code == "chair_taken"
    members = services.committee_members()
    assert [m.role for m in members] == [MemberRole.CHAIR, MemberRole.MEMBER]


def test_official_files_against_a_partner_and_parties_are_told(
    clock, official, create_user, file_dispute, ministry_events
):
    partner = create_user(Role.CITIZEN)
    dispute = file_dispute(partners=[partner])
    assert dispute.state == DisputeState.FILED
    assert dispute.party_user_ids == {official.id, partner.id}
    (payload,) = ministry_events.of(events.DISPUTE_UPDATED)
    assert payload["state"] == "filed"
    assert set(payload["user_ids"]) == {official.id, partner.id}
    assert db.session.query(AuditEntry).filter_by(action="dispute.file").count() == 1


def test_case_against_another_municipalitys_project_is_refused(
    clock, official, create_project, other_municipality, create_user, table_counts
):
    foreign = create_project(other_municipality)
    before = table_counts()
    with pytest.raises(NotFound):
        services.file_dispute(
            actor=official,
            project_id=foreign.id,
            subject="x",
            claims="y",
            partner_user_ids=[create_user(Role.CITIZEN).id],
        )
    db.session.rollback()
    after = table_counts()
    assert after["disputes"] == before["disputes"] == 0


def test_citizen_files_against_the_municipality(clock, create_user, file_dispute, official):
    citizen = create_user(Role.CITIZEN)
    dispute = file_dispute(citizen)
    assert [p.kind.value for p in dispute.parties] == ["citizen", "municipality"]
    # The municipality is a party: its officials see the case.
    assert services.get_dispute(viewer=official, dispute_id=dispute.id) == dispute


def test_only_parties_mediators_and_committee_see_a_case(
    clock, file_dispute, create_user, create_member, other_municipality, analyst
):
    dispute = file_dispute()
    outsider = create_user(Role.CITIZEN)
    foreign_official = create_user(Role.OFFICIAL, municipality=other_municipality)
    for viewer in (outsider, foreign_official):
        with pytest.raises(NotFound):
            services.get_dispute(viewer=viewer, dispute_id=dispute.id)
        assert services.list_disputes(viewer=viewer, limit=10, cursor=None).items == []
    member = create_member(create_user(Role.CITIZEN), qualification="academic")
    assert services.get_dispute(viewer=member.user, dispute_id=dispute.id) == dispute
    assert services.get_dispute(viewer=analyst, dispute_id=dispute.id) == dispute


def test_the_state_machine_from_filing_to_settlement(
    clock, analyst, file_dispute, create_member, create_user, ministry_events
):
    dispute = file_dispute()
    with pytest.raises(RuleViolation) as skip:
        services.settle_dispute(actor=analyst, dispute=dispute, terms="합의")
    assert skip.value.code == "dispute_illegal_transition"
    assert skip.value.fields == {
        "state": ["Allowed moves from filed: accepted, rejected, withdrawn."]
    }
    services.accept_dispute(actor=analyst, dispute=dispute)
    assert dispute.deadline == date(2026, 3, 2) + timedelta(days=60)
    with pytest.raises(RuleViolation) as lonely:
        services.start_mediation(actor=analyst, dispute=dispute)
    assert lonely.value.code == "mediator_required"
    member = create_member(create_user(Role.CITIZEN))
    services.assign_mediator(actor=analyst, dispute=dispute, member_id=member.id)
    services.start_mediation(actor=analyst, dispute=dispute)
    hearing = services.schedule_hearing(
        actor=member.user,
        dispute=dispute,
        starts_at=datetime(2026, 3, 10, 5, tzinfo=UTC),
        ends_at=datetime(2026, 3, 10, 7, tzinfo=UTC),
        place="정부서울청사 회의실",
    )
    # The mediator records the settlement.
    services.settle_dispute(actor=member.user, dispute=dispute, terms="운영비를 분할 정산한다.")
    db.session.commit()
    assert dispute.state == DisputeState.SETTLED
    assert dispute.allowed_moves == []
    states = [p["state"] for p in ministry_events.of(events.DISPUTE_UPDATED)]
    assert states == ["filed", "accepted", "accepted", "in_mediation", "settled"]
    (scheduled,) = ministry_events.of(events.DISPUTE_HEARING_SCHEDULED)
    assert scheduled["hearing_id"] == hearing.id
    assert member.user_id in scheduled["user_ids"]
    actions = {a for (a,) in db.session.query(AuditEntry.action).filter_by(target_id=dispute.id)}
    assert {"dispute.accept", "dispute.settle", "dispute.schedule_hearing"} <= actions


def test_a_party_cannot_mediate(clock, analyst, official, file_dispute, create_member, create_user):
    partner = create_user(Role.CITIZEN)
    dispute = file_dispute(partners=[partner])
    services.accept_dispute(actor=analyst, dispute=dispute)
    for user in (partner, official):
        member = create_member(user, qualification="practitioner", years=15)
        with pytest.raises(RuleViolation) as caught:
            services.assign_mediator(actor=analyst, dispute=dispute, member_id=member.id)
        assert caught.value.code == "mediator_is_party"


def test_withdraw_reject_and_who_may_decide(clock, analyst, official, file_dispute, create_user):
    dispute = file_dispute()
    partner = next(p for p in dispute.parties if p.user_id != official.id)
    partner_user = db.session.get(type(official), partner.user_id)
    with pytest.raises(PermissionDenied):
        services.accept_dispute(actor=official, dispute=dispute)
    with pytest.raises(PermissionDenied):
        services.withdraw_dispute(actor=partner_user, dispute=dispute)
    services.withdraw_dispute(actor=official, dispute=dispute, reason="자체 해결")
    assert dispute.state == DisputeState.WITHDRAWN
    with pytest.raises(RuleViolation):
        services.reject_dispute(actor=analyst, dispute=dispute, reason="x")


def test_deadline_reminders_are_sent_once(clock, analyst, file_dispute, ministry_events):
    dispute = file_dispute()
    services.accept_dispute(actor=analyst, dispute=dispute, deadline=date(2026, 3, 20))
    db.session.commit()
    assert services.remind_deadlines(within_days=7) == 0
    clock.set(datetime(2026, 3, 14, 1, tzinfo=UTC))
    assert services.remind_deadlines(within_days=7) == 1
    assert services.remind_deadlines(within_days=7) == 0
    (near,) = ministry_events.of(events.DISPUTE_DEADLINE_NEAR)
    assert near["deadline"] == date(2026, 3, 20)
