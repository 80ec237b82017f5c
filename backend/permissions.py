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


def is_official_of(user: User, municipality_id: str | None) -> bool:
    """An official of that municipality."""
    return user.role == Role.OFFICIAL and user.municipality_id == municipality_id


def is_municipal_official(user: User) -> bool:
    """An official who belongs to a municipality (creates its projects, committees, facts)."""
    return user.role == Role.OFFICIAL and bool(user.municipality_id)


def is_citizen_of(user: User, municipality_id: str | None) -> bool:
    """A citizen of that municipality (joins its activities, registers for its meetings)."""
    return user.role == Role.CITIZEN and user.municipality_id == municipality_id


def can_manage_row(user: User, row: Any) -> bool:
    """Officials change the rows (projects, stages, activities, participations, surveys) of
    their own municipality."""
    return is_official_of(user, row.municipality_id)


#: Roles that see a municipality's draft and private projects.
UNPUBLISHED_PROJECT_READERS = frozenset({Role.OFFICIAL, Role.ANALYST, Role.ADMIN})


def can_see_unpublished_projects(user: User) -> bool:
    """Staff (officials of the municipality, national roles) see drafts and private projects."""
    return user.role in UNPUBLISHED_PROJECT_READERS


def can_manage_users(user: User) -> bool:
    """Only admins create staff accounts and change roles."""
    return user.role == Role.ADMIN


def is_staff(user: User) -> bool:
    """Any account but a citizen's: the staff of a municipality or of the ministry."""
    return user.role in STAFF_ROLES


def access_is_recorded(user: User) -> bool:
    """Staff's reading and handling of citizens' data is recorded in the access records; a
    citizen only ever sees their own data or masked names, so nothing of theirs is."""
    return is_staff(user)


def can_read_access_records(user: User) -> bool:
    """Only admins read the access records (who read whose data)."""
    return user.role == Role.ADMIN


#: Roles that set a municipality's dormancy policy (its officials, or an admin for any).
DORMANCY_POLICY_WRITERS = frozenset({Role.OFFICIAL, Role.ADMIN})


def can_see_dormancy_policy(user: User, municipality_id: str | None) -> bool:
    """Staff who see the municipality (its own staff, national roles) read its dormancy policy."""
    return is_staff(user) and can_see_municipality(user, municipality_id)


def can_set_dormancy_policy(user: User) -> bool:
    """Officials (of a municipality they see) and admins set a dormancy policy; analysts read."""
    return user.role in DORMANCY_POLICY_WRITERS


#: Roles that create committees and appoint or dismiss their members.
COMMITTEE_MANAGERS = frozenset({Role.OFFICIAL})
#: Roles that schedule, change and cancel meetings and check attendees in.
MEETING_MANAGERS = frozenset({Role.SCHEDULER, Role.OFFICIAL})
#: Roles that read committee members, appointment histories and meeting registrations.
COMMITTEE_STAFF_READERS = frozenset({Role.OFFICIAL, Role.SCHEDULER, Role.ANALYST, Role.ADMIN})


def can_manage_committee(user: User, committee: Any) -> bool:
    """Officials manage the committees (and appointments) of their own municipality."""
    return user.role in COMMITTEE_MANAGERS and is_official_of(user, committee.municipality_id)


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


def can_run_mediation(user: User, *, chair_user_ids: set[str]) -> bool:
    """Ministry staff (the secretariat) and the mediation committee's chair decide on cases
    (accept, reject, start mediation)."""
    return is_ministry_staff(user) or user.id in chair_user_ids


def can_decide_dispute(user: User, dispute: Any, *, chair_user_ids: set[str]) -> bool:
    """A case is settled or closed by its mediators, or by whoever runs mediation."""
    return can_run_mediation(user, chair_user_ids=chair_user_ids) or (
        user.id in dispute.mediator_user_ids
    )


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
    return is_official_of(user, dispute.municipality_id)


def can_see_ticket(user: User, registration: Any) -> bool:
    """A meeting ticket: its registrant, or the managers of the meeting's municipality."""
    mine_or_managed = registration.user_id == user.id or can_manage_meetings(
        user, registration.meeting
    )
    return mine_or_managed and can_see_row(user, registration)


#: Roles that revoke certificates (officials of the certificate's municipality, admins).
CERTIFICATE_REVOKERS = frozenset({Role.OFFICIAL, Role.ADMIN})


def can_revoke_certificates(user: User) -> bool:
    """Officials and admins revoke certificates (of a municipality they see)."""
    return user.role in CERTIFICATE_REVOKERS


def can_nominate(user: User) -> bool:
    """Staff issue or renew a certificate by nomination, where the criteria allow it; a citizen
    (its holder) renews only while the criteria are met."""
    return is_staff(user)


def can_see_certificate(user: User, certificate: Any) -> bool:
    """A certificate: a citizen sees their own, staff those of their municipality."""
    if user.role == Role.CITIZEN:
        return certificate.user_id == user.id
    return can_see_row(user, certificate)


def can_see_participation(user: User, participation: Any) -> bool:
    """A participation: the citizen's own; officials of its municipality; national roles."""
    if user.role == Role.CITIZEN:
        return participation.user_id == user.id
    return sees_all_municipalities(user) or is_official_of(user, participation.municipality_id)


def can_see_learner(user: User, user_id: str, municipality_id: str | None) -> bool:
    """A person's training record (enrolments): the person, the ministry, and officials of the
    person's municipality."""
    return user.id == user_id or is_ministry_staff(user) or is_official_of(user, municipality_id)


def can_see_enrolment(user: User, enrolment: Any) -> bool:
    """An enrolment, as its learner's training record."""
    return can_see_learner(user, enrolment.user_id, enrolment.municipality_id)


def can_write_follow_up(user: User, case: Any) -> bool:
    """A selected case's follow-ups: the municipality's officials, or ministry staff."""
    return is_ministry_staff(user) or is_official_of(user, case.municipality_id)


def can_file_dispute(user: User) -> bool:
    """Officials and citizens of a municipality file dispute cases about its projects."""
    return user.role in (Role.OFFICIAL, Role.CITIZEN) and bool(user.municipality_id)


def is_dispute_party(user: User, dispute: Any) -> bool:
    """Parties are the party users and, for the government side, the municipality's officials."""
    return user.id in dispute.party_user_ids or is_official_of(user, dispute.municipality_id)


def can_withdraw_dispute(user: User, dispute: Any, *, government_side: bool) -> bool:
    """The filer withdraws a case, or an official of the municipality when the government filed."""
    return user.id == dispute.filed_by_id or (
        government_side and is_official_of(user, dispute.municipality_id)
    )


def can_take_course(user: User, course: Any) -> bool:
    """A training course for officials takes staff, one for residents citizens, one for all
    anyone (`course.audience`: officials, residents, all)."""
    if course.audience == "officials":
        return is_staff(user)
    if course.audience == "residents":
        return user.role == Role.CITIZEN
    return course.audience == "all"
