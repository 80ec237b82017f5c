"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask

from backend import events


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    from backend.certification.services import issue_on_participation_confirmed
    from backend.notifications import handlers as notifications
    from backend.participation.services import record_meeting_attendance
    from backend.rewards.services import grant_for_participation

    with app.app_context():
        # A checked-in meeting of a project's stage counts as a confirmed participation there.
        events.subscribe(events.MEETING_ATTENDED, record_meeting_attendance)
        # Rewards first, then certificates: both run in the confirming transaction.
        events.subscribe(events.PARTICIPATION_CONFIRMED, grant_for_participation)
        events.subscribe(events.PARTICIPATION_CONFIRMED, issue_on_participation_confirmed)
        # notifications: an inbox entry and queued pushes for the people an event concerns
        events.subscribe(events.PARTICIPATION_CONFIRMED, notifications.on_participation_confirmed)
        events.subscribe(events.PARTICIPATION_RECORDED, notifications.on_participation_recorded)
        events.subscribe(events.PARTICIPATION_REJECTED, notifications.on_participation_rejected)
        events.subscribe(events.REWARD_GRANTED, notifications.on_reward_granted)
        events.subscribe(events.CERTIFICATE_ISSUED, notifications.on_certificate_issued)
        events.subscribe(events.CERTIFICATE_EXPIRING, notifications.on_certificate_expiring)
        events.subscribe(events.CERTIFICATE_REVOKED, notifications.on_certificate_revoked)
        events.subscribe(events.APPOINTMENT_CREATED, notifications.on_appointment_created)
        events.subscribe(events.APPOINTMENT_TERM_ENDING, notifications.on_appointment_term_ending)
        events.subscribe(events.APPOINTMENT_DISMISSED, notifications.on_appointment_dismissed)
        events.subscribe(events.MEETING_SCHEDULED, notifications.on_meeting_scheduled)
        events.subscribe(events.MEETING_CHANGED, notifications.on_meeting_changed)
        events.subscribe(events.MEETING_CANCELLED, notifications.on_meeting_cancelled)
        events.subscribe(events.MEETING_REMINDER, notifications.on_meeting_reminder)
        events.subscribe(events.REGISTRATION_CONFIRMED, notifications.on_registration_confirmed)
        events.subscribe(events.REGISTRATION_PROMOTED, notifications.on_registration_promoted)
        # notifications: a device lives as long as the login that registered it
        events.subscribe(events.SESSION_ENDED, notifications.on_session_ended)
        events.subscribe(events.USER_DELETED, notifications.on_user_deleted)
        events.subscribe(events.DISPUTE_UPDATED, notifications.on_dispute_updated)
        events.subscribe(
            events.DISPUTE_HEARING_SCHEDULED, notifications.on_dispute_hearing_scheduled
        )
        events.subscribe(events.DISPUTE_DEADLINE_NEAR, notifications.on_dispute_deadline_near)
