"""The ministry's demo rows (`flask seed-demo`): made through the services, once."""

from __future__ import annotations

import sqlalchemy as sa

from backend.audit.models import AuditEntry
from backend.clock import seoul_date
from backend.extensions import db
from backend.ministry.models import (
    CaseFunding,
    Course,
    Dispute,
    DisputeState,
    Enrolment,
    EnrolmentStatus,
    FollowUp,
    MediationMember,
    MemberRole,
    SelectedCase,
)


def test_seed_demo_fills_the_ministry_pages_once(app, ctx, count_rows):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    models = (MediationMember, Dispute, SelectedCase, FollowUp, CaseFunding, Course, Enrolment)
    counts = [count_rows(m) for m in models]
    assert counts == [2, 2, 1, 1, 1, 2, 4]

    chair = db.session.scalar(
        sa.select(MediationMember).where(MediationMember.role == MemberRole.CHAIR)
    )
    assert chair.user.email == "analyst@mois.example"
    states = {d.state: d for d in db.session.scalars(sa.select(Dispute))}
    in_mediation = states[DisputeState.IN_MEDIATION]
    assert DisputeState.FILED in states
    assert len(in_mediation.mediators) == 1 and len(in_mediation.hearings) == 1
    assert not in_mediation.mediator_user_ids & in_mediation.party_user_ids
    statuses = sorted(e.status for e in db.session.scalars(sa.select(Enrolment)))
    assert statuses.count(EnrolmentStatus.COMPLETED) == 1
    # Written by the services, so audited as the API's writes are.
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {
        "mediation.member_add",
        "dispute.assign_mediator",
        "dispute.schedule_hearing",
        "selected_case.follow_up",
        "selected_case.funding",
        "course.enrol",
        "course.complete",
    } <= actions
    # The past course's learners enrolled before it started; the app's clock is put back.
    for enrolment in db.session.scalars(sa.select(Enrolment)):
        assert seoul_date(enrolment.created_at) < enrolment.course.starts_on
    assert "clock" not in app.extensions

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert [count_rows(m) for m in models] == counts
