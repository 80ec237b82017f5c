"""In-process domain events: a domain announces what happened; others react in the same
transaction (rewards on a confirmed participation, notifications' outbox rows, ...).

Handlers run synchronously inside the publishing request's transaction, so what they write
commits or rolls back with the change itself. Nothing here leaves the process: push delivery
is the notification worker's job, after commit.

Subscriptions are made explicitly in the app factory (`backend.subscriptions`), never at
import time, so the wiring is readable in one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import current_app

Handler = Callable[..., None]

# The catalogue of events and their payload keywords (all ids are opaque strings).
PARTICIPATION_CONFIRMED = "participation.confirmed"
"""participation_id, user_id, municipality_id, project_id, activity_id, stage, activity_kind,
hours (float), confirmed_at (datetime), actor_id"""
PARTICIPATION_RECORDED = "participation.recorded"
"""participation_id, user_id, municipality_id, project_id, activity_id, activity_title,
starts_at (datetime), status, actor_id: an official recorded a citizen's participation (a walk-in,
a paper sign-in sheet); the citizen is told, so no record is made in their name unseen"""
PARTICIPATION_REJECTED = "participation.rejected"
"""participation_id, user_id, municipality_id, project_id, activity_id, reason, actor_id"""
REWARD_GRANTED = "reward.granted"
"""entry_id, user_id, municipality_id, incentive, amount, reason"""
CERTIFICATE_ISSUED = "certificate.issued"
"""certificate_id, user_id, municipality_id, expires_at"""
CERTIFICATE_EXPIRING = "certificate.expiring"
"""certificate_id, user_id, municipality_id, expires_at"""
CERTIFICATE_REVOKED = "certificate.revoked"
"""certificate_id, user_id, municipality_id, reason"""
APPOINTMENT_CREATED = "appointment.created"
"""appointment_id, user_id, municipality_id, committee_id, committee_name, role, term_end"""
APPOINTMENT_TERM_ENDING = "appointment.term_ending"
"""appointment_id, user_id, municipality_id, committee_name, term_end"""
APPOINTMENT_DISMISSED = "appointment.dismissed"
"""appointment_id, user_id, municipality_id, committee_name, reason"""
MEETING_SCHEDULED = "meeting.scheduled"
MEETING_CHANGED = "meeting.changed"
MEETING_CANCELLED = "meeting.cancelled"
"""meeting_id, municipality_id, title, starts_at, user_ids (the people to tell)"""
MEETING_REMINDER = "meeting.reminder"
"""meeting_id, municipality_id, title, starts_at, user_ids"""
MEETING_ATTENDED = "meeting.attended"
"""registration_id, meeting_id, user_id, municipality_id, project_id (or None), stage (or None),
title, starts_at, ends_at, actor_id: the participation domain records it as a confirmed
participation of the project's stage, so it counts for rewards and certificates"""
REGISTRATION_CONFIRMED = "registration.confirmed"
REGISTRATION_PROMOTED = "registration.promoted"
"""registration_id, meeting_id, user_id, municipality_id, title, starts_at"""
SESSION_ENDED = "session.ended"
"""session_id, user_id: a login ended (logout); its devices stop receiving push"""
USER_DELETED = "user.deleted"
"""user_id, actor_id: an account was deleted; its devices stop receiving push"""
DISPUTE_UPDATED = "dispute.updated"
"""dispute_id, user_ids (the party users), municipality_id, state, action (filed, accepted,
rejected, mediator_assigned, in_mediation, settled, not_settled, withdrawn)"""
DISPUTE_HEARING_SCHEDULED = "dispute.hearing_scheduled"
"""dispute_id, hearing_id, user_ids (parties and mediators), municipality_id, starts_at, place"""
DISPUTE_DEADLINE_NEAR = "dispute.deadline_near"
"""dispute_id, user_ids (parties and mediators), municipality_id, deadline (date)"""


def _registry() -> dict[str, list[Handler]]:
    return current_app.extensions.setdefault("event_handlers", defaultdict(list))


def subscribe(event: str, handler: Handler) -> None:
    """Call `handler(**payload)` whenever `event` is published (in this app)."""
    _registry()[event].append(handler)


def publish(event: str, **payload: Any) -> None:
    """Tell every subscriber, in order, inside the caller's transaction."""
    for handler in _registry().get(event, ()):
        handler(**payload)
