"""The notification rules: who hears of each domain event (an inbox entry and queued pushes).

The publishing request only writes the event (`backend.notifications.fanout.queue`); the
notification worker runs these rules (`FAN_OUT`) after commit. A logout or a deleted account
removes devices at once, in the publishing transaction (`DEVICE_RULES`): a push must not reach a
signed-out phone in between. Wired in backend.subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from backend import events
from backend.notifications import services, texts

#: Catalogued events that deliberately notify nobody. A meeting check-in becomes a confirmed
#: participation, which notifies on its own (participation.confirmed); telling twice is noise.
SILENT_EVENTS = frozenset({"meeting.attended"})


def _notify(kind: str, user_ids: Iterable[str], payload: dict[str, Any]) -> None:
    services.notify_users(
        user_ids=user_ids,
        content=texts.render(kind, payload),
        municipality_id=payload.get("municipality_id"),
    )


def on_participation_confirmed(**payload: Any) -> None:
    """Tell the citizen their participation counts (and for how many hours)."""
    _notify(events.PARTICIPATION_CONFIRMED, [payload["user_id"]], payload)


def on_participation_recorded(**payload: Any) -> None:
    """Tell the citizen an official recorded a participation in their name."""
    _notify(events.PARTICIPATION_RECORDED, [payload["user_id"]], payload)


def on_participation_rejected(**payload: Any) -> None:
    """Tell the citizen their participation was not confirmed, and why."""
    _notify(events.PARTICIPATION_REJECTED, [payload["user_id"]], payload)


def on_reward_granted(**payload: Any) -> None:
    """Tell the citizen about a reward in their ledger."""
    _notify(events.REWARD_GRANTED, [payload["user_id"]], payload)


def on_certificate_issued(**payload: Any) -> None:
    """Tell the citizen their model-citizen certificate is ready."""
    _notify(events.CERTIFICATE_ISSUED, [payload["user_id"]], payload)


def on_certificate_expiring(**payload: Any) -> None:
    """Warn the citizen that their certificate expires soon."""
    _notify(events.CERTIFICATE_EXPIRING, [payload["user_id"]], payload)


def on_certificate_revoked(**payload: Any) -> None:
    """Tell the citizen their certificate was revoked, and why."""
    _notify(events.CERTIFICATE_REVOKED, [payload["user_id"]], payload)


def on_appointment_created(**payload: Any) -> None:
    """Tell the citizen they were appointed to a committee."""
    _notify(events.APPOINTMENT_CREATED, [payload["user_id"]], payload)


def on_appointment_term_ending(**payload: Any) -> None:
    """Warn a committee member that their term ends soon."""
    _notify(events.APPOINTMENT_TERM_ENDING, [payload["user_id"]], payload)


def on_appointment_dismissed(**payload: Any) -> None:
    """Tell a committee member they were dismissed, and why."""
    _notify(events.APPOINTMENT_DISMISSED, [payload["user_id"]], payload)


def on_meeting_scheduled(**payload: Any) -> None:
    """Tell the people concerned that a meeting was scheduled."""
    _notify(events.MEETING_SCHEDULED, payload["user_ids"], payload)


def on_meeting_changed(**payload: Any) -> None:
    """Tell the people concerned that a meeting changed."""
    _notify(events.MEETING_CHANGED, payload["user_ids"], payload)


def on_meeting_cancelled(**payload: Any) -> None:
    """Tell the people concerned that a meeting was cancelled."""
    _notify(events.MEETING_CANCELLED, payload["user_ids"], payload)


def on_meeting_reminder(**payload: Any) -> None:
    """Remind the registered people of tomorrow's meeting."""
    _notify(events.MEETING_REMINDER, payload["user_ids"], payload)


def on_registration_confirmed(**payload: Any) -> None:
    """Tell the citizen their meeting seat is confirmed."""
    _notify(events.REGISTRATION_CONFIRMED, [payload["user_id"]], payload)


def on_registration_promoted(**payload: Any) -> None:
    """Tell the citizen they moved from the waitlist to a seat."""
    _notify(events.REGISTRATION_PROMOTED, [payload["user_id"]], payload)


def on_session_ended(*, session_id: str, **_payload: Any) -> None:
    """Logout: the login's device stops receiving push (its pending pushes go too)."""
    services.forget_session_devices(session_id=session_id)


def on_user_deleted(*, user_id: str, **_payload: Any) -> None:
    """A deleted account keeps no device."""
    services.forget_user_devices(user_id=user_id)


def on_dispute_updated(**payload: Any) -> None:
    """Tell the parties of a dispute that its case moved on."""
    _notify(events.DISPUTE_UPDATED, payload["user_ids"], payload)


def on_dispute_hearing_scheduled(**payload: Any) -> None:
    """Tell the parties and mediators when and where a hearing is."""
    _notify(events.DISPUTE_HEARING_SCHEDULED, payload["user_ids"], payload)


def on_dispute_deadline_near(**payload: Any) -> None:
    """Remind the parties and mediators of a nearing deadline."""
    _notify(events.DISPUTE_DEADLINE_NEAR, payload["user_ids"], payload)


#: Event kind -> the rule the notification worker runs for it (backend.notifications.fanout).
FAN_OUT: dict[str, Callable[..., None]] = {
    events.PARTICIPATION_CONFIRMED: on_participation_confirmed,
    events.PARTICIPATION_RECORDED: on_participation_recorded,
    events.PARTICIPATION_REJECTED: on_participation_rejected,
    events.REWARD_GRANTED: on_reward_granted,
    events.CERTIFICATE_ISSUED: on_certificate_issued,
    events.CERTIFICATE_EXPIRING: on_certificate_expiring,
    events.CERTIFICATE_REVOKED: on_certificate_revoked,
    events.APPOINTMENT_CREATED: on_appointment_created,
    events.APPOINTMENT_TERM_ENDING: on_appointment_term_ending,
    events.APPOINTMENT_DISMISSED: on_appointment_dismissed,
    events.MEETING_SCHEDULED: on_meeting_scheduled,
    events.MEETING_CHANGED: on_meeting_changed,
    events.MEETING_CANCELLED: on_meeting_cancelled,
    events.MEETING_REMINDER: on_meeting_reminder,
    events.REGISTRATION_CONFIRMED: on_registration_confirmed,
    events.REGISTRATION_PROMOTED: on_registration_promoted,
    events.DISPUTE_UPDATED: on_dispute_updated,
    events.DISPUTE_HEARING_SCHEDULED: on_dispute_hearing_scheduled,
    events.DISPUTE_DEADLINE_NEAR: on_dispute_deadline_near,
}
#: Event kind -> what happens to devices, in the publishing transaction.
DEVICE_RULES: dict[str, Callable[..., None]] = {
    events.SESSION_ENDED: on_session_ended,
    events.USER_DELETED: on_user_deleted,
}
