"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask

from backend import events


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    from backend.certification.services import issue_on_participation_confirmed
    from backend.notifications import fanout
    from backend.notifications import handlers as notifications
    from backend.participation.services import record_meeting_attendance
    from backend.rewards.services import grant_for_participation

    with app.app_context():
        # A checked-in meeting of a project's stage counts as a confirmed participation there.
        events.subscribe(events.MEETING_ATTENDED, record_meeting_attendance)
        # Rewards first, then certificates: both run in the confirming transaction.
        events.subscribe(events.PARTICIPATION_CONFIRMED, grant_for_participation)
        events.subscribe(events.PARTICIPATION_CONFIRMED, issue_on_participation_confirmed)
        # notifications: one event row per notifying event; the notification worker turns
        # it into inbox entries and pushes (backend.notifications.fanout)
        for kind in notifications.FAN_OUT:
            events.subscribe(kind, fanout.queue(kind))
        # notifications: a device lives as long as the login that registered it (at once)
        for kind, rule in notifications.DEVICE_RULES.items():
            events.subscribe(kind, rule)
