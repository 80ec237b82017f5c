"""Who reacts to which domain event: the whole wiring, in one readable place."""

from __future__ import annotations

from flask import Flask


def register_subscriptions(app: Flask) -> None:
    """Subscribe each domain's handlers to the events it reacts to."""
    from backend import events
    from backend.participation.services import record_meeting_attendance

    with app.app_context():
        # A checked-in meeting of a project's stage counts as a confirmed participation there.
        events.subscribe(events.MEETING_ATTENDED, record_meeting_attendance)
