"""Committee services: committees, appointments, meetings, registrations, check-in, calendars.

Seats at a meeting (the rule every registration, promotion and change keeps):

- at most ``capacity`` registrations are confirmed;
- at most ``capacity - reserved_seats`` of them belong to people who are not committee members.

Members may take any seat, others only the unreserved ones; so members fill the reserved seats
first and spill over into the general ones, and a reserved seat never goes to a non-member.
The waitlist is served by tier (member, certified, general), then by time of registration.
Counting and confirming happen with the meeting row locked (``SELECT ... FOR UPDATE`` on
PostgreSQL, the database write lock on SQLite), so parallel registrations cannot overbook.

The services live in sub-modules named after what they hold; this module re-exports their
public names, so `from backend.committees.services import X` keeps working.
"""

from __future__ import annotations

from backend.committees.appointments import (
    _most_held_at_once,
    appoint_member,
    appointment_letter,
    dismiss_appointment,
    get_appointment,
    list_appointments,
    list_my_appointments,
    notify_terms_ending,
    record_ended_terms,
)
from backend.committees.calendars import (
    CALENDAR_HISTORY,
    CALENDAR_MAX_EVENTS,
    calendar_for_token,
    committee_calendar,
    create_calendar_feed,
    personal_calendar,
    revoke_calendar_feed,
)
from backend.committees.check_in import (
    CheckInResult,
    check_in,
)
from backend.committees.committee import (
    create_committee,
    get_committee,
    list_committees,
)
from backend.committees.meetings import (
    attach_minutes,
    cancel_meeting,
    create_meeting,
    get_meeting,
    list_meetings,
    send_meeting_reminders,
    update_meeting,
)
from backend.committees.registrations import (
    _describe,
    cancel_registration,
    get_registration,
    list_meeting_registrations,
    list_my_registrations,
    priority_tier,
    register_for_meeting,
    ticket_png,
)
from backend.committees.shared import (
    T,
)

__all__ = [
    "T",
    "CALENDAR_HISTORY",
    "CALENDAR_MAX_EVENTS",
    "committee_calendar",
    "personal_calendar",
    "create_calendar_feed",
    "revoke_calendar_feed",
    "calendar_for_token",
    "create_committee",
    "get_committee",
    "list_committees",
    "_most_held_at_once",
    "appoint_member",
    "dismiss_appointment",
    "get_appointment",
    "list_appointments",
    "list_my_appointments",
    "appointment_letter",
    "notify_terms_ending",
    "record_ended_terms",
    "create_meeting",
    "get_meeting",
    "list_meetings",
    "update_meeting",
    "cancel_meeting",
    "attach_minutes",
    "send_meeting_reminders",
    "priority_tier",
    "register_for_meeting",
    "get_registration",
    "cancel_registration",
    "_describe",
    "list_meeting_registrations",
    "list_my_registrations",
    "ticket_png",
    "CheckInResult",
    "check_in",
]
