"""An official's record of a citizen's participation, on a raw connection: the hot path.

`services.record_participation` is the reference. This does the same for the plain case (a
citizen with no earlier record in the activity, a seat free) with the same rules, statements
and rows, for a `RawConnection`: `reads` says what to read, `plan_plain_record` judges it and
plans the rows, `record_writes` lists them behind the seat they take. Anything else gives None
and the caller hands the request to the full path, which answers it (an error, a rejoin)
exactly as always.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from backend.audit.services import audit_row, audit_write
from backend.participation.models import (
    Activity,
    ParticipationStatus,
    Project,
    ProjectStatus,
    Stage,
)
from backend.participation.services import (
    CITIZEN_AND_RECORD,
    INSERT_PARTICIPATION,
    RECORDABLE_PROJECTS,
    TAKE_SEAT,
    participation_row,
    recordable_citizen,
    recorded_payload,
)
from backend.permissions import Role
from backend.rawsql import Read, Write


class ActivityRow(NamedTuple):
    """What recording reads of an activity and its project."""

    id: str
    municipality_id: str
    project_id: str
    stage_id: str
    stage: Stage
    starts_at: Any
    title: str
    project_status: ProjectStatus


class CitizenRow(NamedTuple):
    """What recording reads of the citizen, and their earlier record here if any."""

    role: Role
    municipality_id: str | None
    is_active: bool
    deleted_at: Any
    existing_id: str | None


class Actor(NamedTuple):
    """The official recording (from the session check)."""

    id: str
    role: Role
    municipality_id: str | None


class Recorded(NamedTuple):
    """A planned record: the participation's row, its audit entry, the event's payload."""

    participation: dict[str, Any]
    audit: dict[str, Any]
    event: dict[str, Any]


_ACTIVITY = (
    sa.select(
        Activity.id,
        Activity.municipality_id,
        Activity.project_id,
        Activity.stage_id,
        Activity.stage,
        Activity.starts_at,
        Activity.title,
        Project.status,
    )
    .join(Project, Project.id == Activity.project_id)
    .where(Activity.id == sa.bindparam("activity_id"))
)


def reads(*, activity_id: str, user_id: str) -> list[Read]:
    """What recording reads: the activity with its project, the citizen with any record."""
    return [
        Read(_ACTIVITY, {"activity_id": activity_id}),
        Read(CITIZEN_AND_RECORD, {"activity_id": activity_id, "user_id": user_id}),
    ]


def plan_plain_record(
    activity_found: tuple | None,
    citizen_found: tuple | None,
    *,
    actor: Actor,
    user_id: str,
    attended: bool,
) -> Recorded | None:
    """What `services.record_participation` would write, in the plain case, from what `reads`
    found; None when the case is not plain (the full path then answers)."""
    if activity_found is None:
        return None
    activity = ActivityRow(*activity_found)
    if (
        actor.role != Role.OFFICIAL
        or actor.municipality_id != activity.municipality_id
        or activity.project_status not in RECORDABLE_PROJECTS
    ):
        return None
    citizen = CitizenRow(*citizen_found) if citizen_found is not None else None
    if not recordable_citizen(citizen, activity.municipality_id) or citizen.existing_id:
        return None
    status = ParticipationStatus.ATTENDED if attended else ParticipationStatus.REGISTERED
    participation = participation_row(activity, user_id, recorded_by=actor.id, status=status)
    audit = audit_row(
        actor_id=actor.id,
        actor_role=actor.role.value,
        municipality_id=activity.municipality_id,
        action="participation.record",
        target_type="participation",
        target_id=participation["id"],
        details={"activity_id": activity.id, "user_id": user_id, "status": status.value},
    )
    return Recorded(participation, audit, recorded_payload(participation, activity))


def seat_guard(recorded: Recorded) -> tuple[sa.Update, dict[str, Any]]:
    """The seat the record takes, with its values: the rows are written only if it was free
    (`RawConnection.write_if`)."""
    return TAKE_SEAT, {"activity_id": recorded.participation["activity_id"]}


def record_writes(recorded: Recorded) -> list[Write]:
    """The planned record's rows: the participation and its audit entry."""
    return [Write(INSERT_PARTICIPATION, recorded.participation), audit_write(recorded.audit)]
