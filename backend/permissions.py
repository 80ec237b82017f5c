"""Roles and the plain policy functions every view and service asks.

One place says who may do what: views name the roles they admit (`backend.api.auth.requires`)
and services scope rows with `scope_to_municipality`, so a forgotten check is visible in review.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from backend.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy import Select

    from backend.identity.models import User


class Role(enum.StrEnum):
    """What a user is on the platform."""

    CITIZEN = "citizen"
    OFFICIAL = "official"
    VERIFIER = "verifier"
    SCHEDULER = "scheduler"
    ANALYST = "analyst"
    ADMIN = "admin"


#: Roles that belong to one municipality and see only it.
MUNICIPAL_ROLES = frozenset({Role.CITIZEN, Role.OFFICIAL, Role.VERIFIER, Role.SCHEDULER})
#: Roles that read across all municipalities.
NATIONAL_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
#: Roles an admin creates (citizens sign up themselves).
STAFF_ROLES = frozenset(Role) - {Role.CITIZEN}
ALL_ROLES = frozenset(Role)


def sees_all_municipalities(user: User) -> bool:
    """Analysts (read-only) and admins see every municipality."""
    return user.role in NATIONAL_ROLES


def can_see_municipality(user: User, municipality_id: str | None) -> bool:
    """Whether a user may see rows owned by a municipality."""
    return sees_all_municipalities(user) or user.municipality_id == municipality_id


def can_see_row(user: User, row: Any) -> bool:
    """Whether a user may see a municipality-owned row."""
    return can_see_municipality(user, row.municipality_id)


def can_see_personal_row(user: User, row: Any) -> bool:
    """A row about one person (`row.user_id`) of a municipality, such as an appointment or a
    meeting registration: staff of that municipality (and national roles) see it, a citizen
    only their own."""
    return can_see_row(user, row) and (user.role != Role.CITIZEN or row.user_id == user.id)


def ensure_same_municipality(user: User, row: Any) -> Any:
    """Return the row if the user may see its municipality, else act as if it did not exist."""
    if row is None or not can_see_municipality(user, row.municipality_id):
        raise NotFound("Not found.")
    return row


def scope_to_municipality(query: Select, model: Any, user: User) -> Select:
    """Limit a query on a municipality-owned model to what the user may see."""
    if sees_all_municipalities(user):
        return query
    return query.where(model.municipality_id == user.municipality_id)


def can_manage_users(user: User) -> bool:
    """Only admins create staff accounts and change roles."""
    return user.role == Role.ADMIN


#: Roles that create committees and appoint or dismiss their members.
COMMITTEE_MANAGERS = frozenset({Role.OFFICIAL})
#: Roles that schedule, change and cancel meetings and check attendees in.
MEETING_MANAGERS = frozenset({Role.SCHEDULER, Role.OFFICIAL})
#: Roles that read committee members, appointment histories and meeting registrations.
COMMITTEE_STAFF_READERS = frozenset({Role.OFFICIAL, Role.SCHEDULER, Role.ANALYST, Role.ADMIN})


def can_manage_committee(user: User, committee: Any) -> bool:
    """Officials manage the committees (and appointments) of their own municipality."""
    return user.role in COMMITTEE_MANAGERS and user.municipality_id == committee.municipality_id


def can_manage_meetings(user: User, owner: Any) -> bool:
    """Schedulers and officials manage the meetings of their own municipality's committees."""
    return user.role in MEETING_MANAGERS and user.municipality_id == owner.municipality_id


#: The ministry's own staff (행정안전부): analysts and admins. Analysts stay read-only for
#: municipal data (projects, participations, committees); the records the ministry itself keeps
#: (selected cases and their central funding, the mediation committee, the decisions of dispute
#: cases, the training courses and their attendance) need a writer there, and these are its staff.
MINISTRY_STAFF = frozenset({Role.ANALYST, Role.ADMIN})


def is_ministry_staff(user: User) -> bool:
    """Whether the user writes the ministry's own records (analyst or admin)."""
    return user.role in MINISTRY_STAFF


def can_see_dispute(
    user: User,
    dispute: Any,
    *,
    party_user_ids: set[str],
    mediator_user_ids: set[str],
    committee_user_ids: set[str],
) -> bool:
    """A dispute case is seen by its parties, its mediators and the mediation committee only.

    The parties are the listed party users and the officials of the municipality (the
    government side of every case); the committee is its active members and the ministry staff
    who keep its secretariat.
    """
    if is_ministry_staff(user):
        return True
    if user.id in party_user_ids or user.id in mediator_user_ids or user.id in committee_user_ids:
        return True
    return user.role == Role.OFFICIAL and user.municipality_id == dispute.municipality_id


def can_see_ticket(user: User, registration: Any) -> bool:
    """A meeting ticket: its registrant, or the managers of the meeting's municipality."""
    mine_or_managed = registration.user_id == user.id or can_manage_meetings(
        user, registration.meeting
    )
    return mine_or_managed and can_see_row(user, registration)


def can_see_certificate(user: User, certificate: Any) -> bool:
    """A certificate: a citizen sees their own, staff those of their municipality."""
    if user.role == Role.CITIZEN:
        return certificate.user_id == user.id
    return can_see_row(user, certificate)


def can_see_participation(user: User, participation: Any) -> bool:
    """A participation: the citizen's own; officials of its municipality; national roles."""
    if user.role == Role.CITIZEN:
        return participation.user_id == user.id
    return sees_all_municipalities(user) or (
        user.role == Role.OFFICIAL and user.municipality_id == participation.municipality_id
    )


def can_see_learner(user: User, user_id: str, municipality_id: str | None) -> bool:
    """A person's training record (enrolments): the person, the ministry, and officials of the
    person's municipality."""
    if user.id == user_id or is_ministry_staff(user):
        return True
    return user.role == Role.OFFICIAL and municipality_id == user.municipality_id
