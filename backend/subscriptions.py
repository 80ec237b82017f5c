"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask

from backend import events
from backend.events import subscribe


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    from backend.notifications import handlers as notifications

    with app.app_context():
        # notifications: an inbox entry and queued pushes for the people an event concerns
        subscribe(events.PARTICIPATION_CONFIRMED, notifications.on_participation_confirmed)
        subscribe(events.PARTICIPATION_REJECTED, notifications.on_participation_rejected)
        subscribe(events.REWARD_GRANTED, notifications.on_reward_granted)
        subscribe(events.CERTIFICATE_ISSUED, notifications.on_certificate_issued)
        subscribe(events.CERTIFICATE_EXPIRING, notifications.on_certificate_expiring)
        subscribe(events.CERTIFICATE_REVOKED, notifications.on_certificate_revoked)
        subscribe(events.APPOINTMENT_CREATED, notifications.on_appointment_created)
        subscribe(events.APPOINTMENT_TERM_ENDING, notifications.on_appointment_term_ending)
        subscribe(events.APPOINTMENT_DISMISSED, notifications.on_appointment_dismissed)
        subscribe(events.MEETING_SCHEDULED, notifications.on_meeting_scheduled)
        subscribe(events.MEETING_CHANGED, notifications.on_meeting_changed)
        subscribe(events.MEETING_CANCELLED, notifications.on_meeting_cancelled)
        subscribe(events.MEETING_REMINDER, notifications.on_meeting_reminder)
        subscribe(events.REGISTRATION_CONFIRMED, notifications.on_registration_confirmed)
        subscribe(events.REGISTRATION_PROMOTED, notifications.on_registration_promoted)
        # notifications: a device lives as long as the login that registered it
        subscribe(events.SESSION_ENDED, notifications.on_session_ended)
        subscribe(events.USER_DELETED, notifications.on_user_deleted)
