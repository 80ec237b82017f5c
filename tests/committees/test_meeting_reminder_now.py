"""Staff remind a meeting's confirmed registrants on demand (the console's button)."""

from __future__ import annotations

import pytest

from backend import events
from backend.committees import services
from backend.committees.models import MeetingStatus
from backend.errors import PermissionDenied, RuleViolation
from backend.permissions import Role


def test_reminds_the_confirmed_only_and_audits(
    create_user, create_committee, create_meeting, published
):
    scheduler = create_user(Role.SCHEDULER)
    meeting = create_meeting(create_committee(), capacity=1)
    first, second = create_user(Role.CITIZEN), create_user(Role.CITIZEN)
    services.register_for_meeting(actor=first, meeting=meeting)
    services.register_for_meeting(actor=second, meeting=meeting)
    assert services.send_meeting_reminder(actor=scheduler, meeting=meeting) == 1
    reminders = published.of(events.MEETING_REMINDER)
    assert [r["user_ids"] for r in reminders] == [[first.id]]
    assert meeting.reminder_sent_at is not None


def test_refused_to_other_municipalities_and_for_cancelled_meetings(
    create_user, create_committee, create_meeting, other_municipality
):
    meeting = create_meeting(create_committee())
    stranger = create_user(Role.SCHEDULER, municipality=other_municipality)
    with pytest.raises(PermissionDenied):
        services.send_meeting_reminder(actor=stranger, meeting=meeting)
    meeting.status = MeetingStatus.CANCELLED
    with pytest.raises(RuleViolation) as refused:
        services.send_meeting_reminder(actor=create_user(Role.SCHEDULER), meeting=meeting)
    assert refused.value.code == "meeting_cancelled"
